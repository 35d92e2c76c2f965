"""`generate()`: build the world, the clickstream and the change feeds, and land them."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from lakehouse.contracts.landing import MANIFEST_DIR
from lakehouse_dev.generate import cdc
from lakehouse_dev.generate.clickstream import Clickstream, generate_clickstream
from lakehouse_dev.generate.config import DAY_MS, GenerateConfig
from lakehouse_dev.generate.landing import (
    MALFORMATIONS,
    EventSerializer,
    LandingWriter,
    Progress,
    write_changes,
    write_events,
)
from lakehouse_dev.generate.world import World, build_world, random_hex

PROGRESS_FROM_LINES = 500_000


@dataclass
class GenerationResult:
    """What one generation landed (or found already landed)."""

    tag: str
    skipped: bool
    events: int  # distinct events
    sessions: int
    bot_events: int
    orders: int
    lines: dict[str, int]  # landed lines per feed (events, cdc_users, ...)
    duplicate_lines: int
    late_lines: int
    malformed: dict[str, int]  # malformed event lines by kind
    cdc_malformed: int
    files: int
    seconds: float
    config: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def generation_manifest(landing: Path, cfg: GenerateConfig) -> Path:
    return landing / MANIFEST_DIR / "generations" / f"{cfg.tag}.json"


def _already_landed(landing: Path, cfg: GenerateConfig) -> GenerationResult | None:
    path = generation_manifest(landing, cfg)
    if not path.exists():
        return None
    stored = json.loads(path.read_text())
    if not all((landing / f).exists() for f in stored.pop("file_list")):
        return None
    return GenerationResult(**{**stored, "skipped": True, "seconds": 0.0})


@dataclass
class Generated:
    """Everything one configuration generates, before it is written anywhere (files, or the real
    shop and topic: `lakehouse_dev.generate.sinks`)."""

    cfg: GenerateConfig
    rng: np.random.Generator  # continues the generation's stream: what is drawn after is deterministic too
    start_ms: int
    world: World
    clicks: Clickstream
    feeds: list[cdc.ChangeFeed]
    serializer: EventSerializer


def build(cfg: GenerateConfig) -> Generated:
    rng = np.random.default_rng(cfg.seed)
    start_ms = int(datetime.combine(cfg.start_date, datetime.min.time(), UTC).timestamp() * 1000)
    world = build_world(cfg, rng, start_ms)
    clicks = generate_clickstream(world, cfg, rng, start_ms)
    feeds = [
        cdc.user_changes(world, cfg, rng, start_ms),
        cdc.product_changes(world, cfg, rng, start_ms),
        cdc.order_changes(world, clicks, cfg, rng, start_ms),
    ]
    event_ids = pa.array(random_hex(rng, clicks.n_unique_events, 16))
    return Generated(cfg, rng, start_ms, world, clicks, feeds, EventSerializer(world, clicks, event_ids))


def generate_config(cfg: GenerateConfig, out_dir: Path, progress: bool | None = None) -> GenerationResult:
    """Land the data for `cfg` under `out_dir`; a no-op when this exact config already landed there."""
    out_dir = Path(out_dir).resolve()
    existing = _already_landed(out_dir, cfg)
    if existing is not None:
        return existing
    started = time.monotonic()
    generated = build(cfg)
    rng, start_ms, clicks, feeds = generated.rng, generated.start_ms, generated.clicks, generated.feeds
    n_lines = len(clicks.events["event_key"])
    total = n_lines + sum(len(f) for f in feeds)
    show = progress if progress is not None else total >= PROGRESS_FROM_LINES
    bar = Progress(total, show)
    writer = LandingWriter(out_dir, cfg)
    write_events(writer, generated.serializer, clicks, start_ms, bar)
    cdc_malformed = sum(write_changes(writer, feed, start_ms, rng, bar) for feed in feeds)

    lines: dict[str, int] = {}
    for manifest in writer.files:
        lines[str(manifest["feed"])] = lines.get(str(manifest["feed"]), 0) + int(str(manifest["lines"]))
    result = describe(generated, lines, cdc_malformed, len(writer.files), time.monotonic() - started)
    path = generation_manifest(out_dir, cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {**result.as_dict(), "file_list": [m["file"] for m in writer.files]}
    record.pop("skipped")
    record.pop("seconds")
    path.write_text(json.dumps(record, indent=1) + "\n")
    return result


def describe(
    generated: Generated, lines: dict[str, int], cdc_malformed: int, files: int, seconds: float
) -> GenerationResult:
    """What a generation wrote: `lines` per feed (landed lines, or records produced)."""
    clicks, cfg = generated.clicks, generated.cfg
    ev = clicks.events
    kinds = np.bincount(ev["malformed"][ev["malformed"] >= 0], minlength=len(MALFORMATIONS))
    return GenerationResult(
        tag=cfg.tag,
        skipped=False,
        events=clicks.n_unique_events,
        sessions=clicks.n_sessions,
        bot_events=clicks.n_bot_events,
        orders=len(clicks.orders["order_id"]),
        lines=lines,
        duplicate_lines=len(ev["event_key"]) - clicks.n_unique_events,
        late_lines=int(((ev["received_ms"] - ev["true_ms"]) >= DAY_MS).sum()),
        malformed={kind: int(k) for kind, k in zip(MALFORMATIONS, kinds, strict=True)},
        cdc_malformed=cdc_malformed,
        files=files,
        seconds=round(seconds, 2),
        config=cfg.as_dict(),
    )


def generate(
    scale_events: int = GenerateConfig.scale_events,
    days: int = GenerateConfig.days,
    seed: int = GenerateConfig.seed,
    out_dir: Path | str | None = None,
    progress: bool | None = None,
    **options: Any,
) -> GenerationResult:
    """Generate and land `scale_events` events over `days` days (deterministic per `seed`).

    `out_dir` is the landing zone (default: `Settings.landing_dir`); `options` are further
    `GenerateConfig` fields (users, products, start_date, duplicate_rate, gzip, ...).
    """
    if out_dir is None:
        from lakehouse.config import Settings

        out_dir = Settings.from_env().landing_dir
    cfg = replace(GenerateConfig(), scale_events=scale_events, days=days, seed=seed, **options)
    return generate_config(cfg, Path(out_dir), progress=progress)
