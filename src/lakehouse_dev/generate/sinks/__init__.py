"""Where a generation goes besides the landing zone: the real shop and the real topic.

`postgres` applies the users/products/orders history to the shop's PostgreSQL database as inserts,
updates and deletes, in commit order, so Debezium captures real changes; `kafka` produces the
clickstream, dirt included, to its topic. Both take what `generate.core.build` made, so a seed
gives the same data on every path. Neither is imported by runtime ingestion.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from lakehouse_dev.generate.config import GenerateConfig
from lakehouse_dev.generate.core import GenerationResult, build, describe
from lakehouse_dev.streaming.config import StreamingConfig

SINKS = ("postgres", "kafka")


def write(cfg: GenerateConfig, sinks: list[str], progress: Callable[[str], None] = print) -> GenerationResult:
    """Generate `cfg` into each sink once: a sink that already took this generation is skipped
    (recorded under the streaming state's data, so `streaming down --wipe` forgets it too)."""
    from lakehouse_dev.generate.sinks import kafka, postgres

    config = StreamingConfig.from_env()
    started = time.monotonic()
    generated = build(cfg)
    lines: dict[str, int] = {}
    for sink in sinks:
        record = config.state_dir / "data" / "generated" / f"{cfg.tag}.{sink}.json"
        if record.exists():
            done = json.loads(record.read_text())
            progress(f"  {sink}: generation {cfg.tag} already written, skipped")
        elif sink == "postgres":
            done = postgres.write(config, generated, progress)
        else:
            done = {"events": kafka.produce(config, generated)}
            progress(f"  kafka: produced {done['events']:,} clickstream records")
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(done) + "\n")
        lines.update(done)
    return describe(generated, lines, 0, 0, time.monotonic() - started)
