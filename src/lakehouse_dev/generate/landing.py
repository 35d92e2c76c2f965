"""Turn generated rows into landed files: JSON lines per feed, partitioned by arrival date, each
file with a manifest that records how many lines it holds (the count ingestion reconciles to)."""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.contracts.events import EVENT_TYPES
from lakehouse.contracts.landing import MANIFEST_DIR, land_file
from lakehouse_dev.generate import jsonl
from lakehouse_dev.generate import reference as ref
from lakehouse_dev.generate.cdc import ChangeFeed
from lakehouse_dev.generate.clickstream import CAMPAIGNS, COUNTRY_CURRENCY, CURRENCIES, REFERRERS, Clickstream
from lakehouse_dev.generate.config import DAY_MS, GenerateConfig
from lakehouse_dev.generate.world import World

# Malformation kinds, in the order of `Clickstream.events["malformed"]` codes.
MALFORMATIONS = ("truncated_json", "wrong_type", "missing_required_field", "invalid_utf8")
APP_VERSIONS = {"web": "web-3.2.0", "ios": "ios-5.4.1", "android": "android-5.4.0"}


class Progress:
    """A stderr progress report for long runs (quiet for small ones): one line rewritten in place on
    a terminal, a line per 10% step in a log."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled
        self.in_place = sys.stderr.isatty()
        self.reported_step = 0

    def advance(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        pct = 100 * self.done / max(self.total, 1)
        line = f"  generate: {self.done:,}/{self.total:,} lines ({pct:.0f}%)"
        if self.in_place:
            print(f"\r{line}", end="\n" if self.done >= self.total else "", file=sys.stderr)
        elif int(pct // 10) > self.reported_step:
            self.reported_step = int(pct // 10)
            print(line, file=sys.stderr)


class EventSerializer:
    """Lookup tables built once; `lines(rows)` renders any slice of the clickstream."""

    def __init__(self, world: World, clicks: Clickstream, event_ids: pa.Array) -> None:
        self.ev, self.event_ids = clicks.events, event_ids
        bots = len(ref.HEAVY_BOTS)
        clients = [*ref.CLIENTS, *(("desktop", "Linux", ua, "web") for ua, _share in ref.HEAVY_BOTS)]
        self.device = pa.array([c[0] for c in clients])
        self.os = pa.array([c[1] for c in clients])
        self.user_agent = pa.array([c[2] for c in clients])
        self.app_version = pa.array([APP_VERSIONS[c[3]] for c in clients])
        self.anon = pa.concat_arrays([world.user_anon_ids, pa.array([f"a_bot{i}" for i in range(bots)])])
        self.ip = pa.concat_arrays([world.user_ips, pa.array([f"203.0.113.{10 + i}" for i in range(bots)])])
        self.user_ids, self.product_ids = world.user_ids, world.product_ids
        self.countries = pa.array([c[0] for c in ref.COUNTRIES])
        self.channels = pa.array([c[0] for c in ref.CHANNELS])
        leaves = ref.leaf_categories()
        terms = [f"{mod}{name.lower()}" for _cid, name, _d, _w in leaves for mod in ref.SEARCH_MODIFIERS]
        self.search_terms = pa.array(terms)
        # page_url table: static pages, category pages, product pages, search pages, funnel pages.
        self.url_base = {"category": len(ref.STATIC_PAGES)}
        self.url_base["product"] = self.url_base["category"] + len(leaves)
        self.url_base["search"] = self.url_base["product"] + world.n_products
        self.url_base["funnel"] = self.url_base["search"] + len(terms)
        self.urls = pa.concat_arrays(
            [
                pa.array(ref.STATIC_PAGES),
                pa.array([f"/c/{cid}" for cid, *_rest in leaves]),
                jsonl.concat("/p/", world.product_ids),
                pa.array([f"/search?q={t.replace(' ', '+').replace('&', '%26')}" for t in terms]),
                pa.array(["/cart", "/cart", "/checkout", "/checkout/confirmation"]),
            ]
        )
        self.order_ids = pa.array(clicks.orders["order_id"])

    def _page_index(self, rows: np.ndarray) -> np.ndarray:
        ev, base = self.ev, self.url_base
        etype, static = ev["event_type"][rows].astype(np.int64), ev["static_page"][rows]
        page_view = np.where(static >= 0, static, base["category"] + ev["category"][rows])
        funnel = base["funnel"] + np.maximum(etype - EVENT_TYPES.index("add_to_cart"), 0)
        return np.select(
            [etype == 0, etype == 1, etype == 2],
            [page_view, base["product"] + ev["product"][rows], base["search"] + ev["search_term"][rows]],
            funnel,
        )

    def lines(self, rows: np.ndarray) -> pa.Array:
        ev = self.ev
        col = {name: values[rows] for name, values in ev.items()}
        quantity_missing = col["quantity"] <= 0
        price_missing = np.isnan(col["price"])
        as_string = pa.array(col["string_numbers"])
        quantity = jsonl.number_text(col["quantity"], quantity_missing)
        price = jsonl.number_text(np.nan_to_num(col["price"]), price_missing)
        pieces = [
            jsonl.string_field("event_id", jsonl.take(self.event_ids, col["event_key"])),
            jsonl.string_field("event_type", jsonl.take(pa.array(EVENT_TYPES), col["event_type"])),
            jsonl.string_field("event_ts", jsonl.iso_utc(col["event_ms"])),
            jsonl.string_field("user_id", jsonl.take(self.user_ids, col["user"])),
            jsonl.string_field("anonymous_id", jsonl.take(self.anon, col["anon"])),
            jsonl.string_field("device_type", jsonl.take(self.device, col["client"])),
            jsonl.string_field("os", jsonl.take(self.os, col["client"])),
            jsonl.string_field("user_agent", jsonl.take(self.user_agent, col["client"])),
            jsonl.string_field("ip_address", jsonl.take(self.ip, col["anon"])),
            jsonl.string_field("country_code", jsonl.take(self.countries, col["country"])),
            jsonl.string_field("channel", jsonl.take(self.channels, col["channel"])),
            jsonl.string_field("referrer", jsonl.take(pa.array(REFERRERS, pa.string()), col["referrer"])),
            jsonl.string_field("campaign", jsonl.take(pa.array(CAMPAIGNS, pa.string()), col["campaign"])),
            jsonl.string_field("page_url", jsonl.take(self.urls, self._page_index(rows))),
            jsonl.string_field("product_id", jsonl.take(self.product_ids, col["product"])),
            jsonl.string_field("search_query", jsonl.take(self.search_terms, col["search_term"])),
            # schema drift: some clients send numbers as JSON strings
            pc.if_else(
                as_string, jsonl.string_field("quantity", quantity), jsonl.raw_field("quantity", quantity)
            ),
            pc.if_else(as_string, jsonl.string_field("price", price), jsonl.raw_field("price", price)),
            jsonl.string_field(
                "currency",
                jsonl.take(
                    pa.array(CURRENCIES), np.where(price_missing, -1, COUNTRY_CURRENCY[col["country"]])
                ),
            ),
            jsonl.string_field("order_id", jsonl.take(self.order_ids, col["order"])),
            # schema drift: contract v2 adds app_version part-way through
            jsonl.string_field(
                "app_version", jsonl.take(self.app_version, np.where(col["drift"], col["client"], -1))
            ),
            # additive drift: a field no contract knows yet
            jsonl.string_field("experiment_id", jsonl.take(pa.array(ref.EXPERIMENTS), col["experiment"])),
        ]
        lines = pc.cast(jsonl.json_object(pieces), pa.binary())
        bad = np.flatnonzero(col["malformed"] >= 0)
        if len(bad) == 0:
            return lines
        # Only the few malformed lines (0.1%) are touched one by one.
        raw = pc.take(lines, pa.array(bad)).to_pylist()
        broken = [
            malform(line, int(kind), int(key))
            for line, kind, key in zip(raw, col["malformed"][bad], col["event_key"][bad], strict=True)
        ]
        mask = np.zeros(len(rows), dtype=bool)
        mask[bad] = True
        return pc.replace_with_mask(lines, pa.array(mask), pa.array(broken, pa.binary()))


def malform(line: bytes, kind: int, key: int) -> bytes:
    """Break one line in the given way (deterministic in the event's key)."""
    name = MALFORMATIONS[kind]
    if name == "truncated_json":
        return line[: 10 + key % max(1, len(line) - 12)]
    if name == "wrong_type":
        if b'"quantity":' in line:
            return re.sub(rb'"quantity":"?\d+"?', b'"quantity":"two"', line)
        return re.sub(rb'"event_ts":"[^"]*"', b'"event_ts":"not a timestamp"', line)
    if name == "missing_required_field":
        field = b"event_id" if key % 2 == 0 else b"event_type"
        return re.sub(rb'"' + field + rb'":"[^"]*",?', b"", line, count=1)
    return line.replace(b'"page_url":"/', b'"page_url":"/\xc3\x28', 1)  # invalid UTF-8 sequence


def truncate_some(lines: pa.Array, rate: float, rng: np.random.Generator) -> tuple[pa.Array, int]:
    """Cut a share of CDC lines short (a crashed writer)."""
    hit = np.flatnonzero(rng.random(len(lines)) < rate)
    if len(hit) == 0:
        return lines, 0
    raw = pc.take(lines, pa.array(hit)).to_pylist()
    mask = np.zeros(len(lines), dtype=bool)
    mask[hit] = True
    cut = [line[: len(line) // 2] for line in raw]
    return pc.replace_with_mask(lines, pa.array(mask), pa.array(cut, pa.string())), len(hit)


def day_chunks(arrival_day: np.ndarray, max_lines: int) -> Iterator[tuple[int, np.ndarray]]:
    """(arrival day, row indexes) per landing file; rows are already in arrival order."""
    days, starts = np.unique(arrival_day, return_index=True)
    ends = [*starts[1:], len(arrival_day)]
    for day, start, end in zip(days, starts, ends, strict=True):
        for chunk_start in range(int(start), int(end), max_lines):
            yield int(day), np.arange(chunk_start, min(chunk_start + max_lines, int(end)))


class LandingWriter:
    """Writes `<landing>/<feed>/arrival_date=<day>/<feed>-<tag>-<part>.jsonl[.gz]` plus manifests."""

    def __init__(self, landing: Path, cfg: GenerateConfig) -> None:
        self.landing, self.cfg = landing, cfg
        self.files: list[dict[str, object]] = []
        self.parts: Counter[tuple[str, int]] = Counter()

    def write(self, feed: str, day: int, payload: bytes, lines: int, malformed: int) -> None:
        arrival = self.cfg.start_date + timedelta(days=day)
        part = self.parts[(feed, day)]
        self.parts[(feed, day)] += 1
        suffix = ".jsonl.gz" if self.cfg.gzip else ".jsonl"
        data = gzip.compress(payload, compresslevel=1) if self.cfg.gzip else payload
        name = f"{feed}-{self.cfg.tag}-{part:05d}{suffix}"
        self.files.append(land_file(self.landing, feed, arrival, name, data, lines, malformed, self.cfg.tag))


def write_events(
    writer: LandingWriter, serializer: EventSerializer, clicks: Clickstream, start_ms: int, progress: Progress
) -> None:
    arrival_day = (clicks.events["received_ms"] - start_ms) // DAY_MS
    for day, rows in day_chunks(arrival_day, writer.cfg.max_lines_per_file):
        lines = serializer.lines(rows)
        malformed = int((clicks.events["malformed"][rows] >= 0).sum())
        writer.write("events", day, jsonl.to_bytes(lines), len(rows), malformed)
        progress.advance(len(rows))


def write_changes(
    writer: LandingWriter, feed: ChangeFeed, start_ms: int, rng: np.random.Generator, progress: Progress
) -> int:
    """Returns the number of lines landed malformed."""
    lines, n_bad = truncate_some(feed.lines, writer.cfg.cdc_malformed_rate, rng)
    bad = np.zeros(len(lines), dtype=bool)
    if n_bad:
        bad = pc.invert(pc.ends_with(lines, "}")).to_numpy(zero_copy_only=False)
    arrival_day = np.maximum((feed.received_ms - start_ms) // DAY_MS, 0)
    for day, rows in day_chunks(arrival_day, writer.cfg.max_lines_per_file):
        chunk = pc.take(lines, pa.array(rows))
        writer.write(f"cdc_{feed.name}", day, jsonl.to_bytes(chunk), len(rows), int(bad[rows].sum()))
        progress.advance(len(rows))
    return n_bad


def land_arrivals(held: Path, landing: Path, until: date) -> dict[str, int]:
    """Move every file that arrived on or before `until`, with its manifest, from `held` (a landing
    zone written by the generator but not yet exposed) into `landing`; returns the lines moved per feed.

    This is how a day's data reaches the landing zone in production: what the sources delivered
    that day, late and duplicate lines included, and nothing delivered afterwards.
    """
    moved: Counter[str] = Counter()
    for manifest in sorted((held / MANIFEST_DIR).glob("*/arrival_date=*/*.json")):
        if date.fromisoformat(manifest.parent.name.removeprefix("arrival_date=")) > until:
            continue
        relative = manifest.relative_to(held / MANIFEST_DIR)  # <feed>/arrival_date=<day>/<file>.json
        data = relative.with_suffix("")
        for source, target in ((held / data, landing / data), (manifest, landing / MANIFEST_DIR / relative)):
            target.parent.mkdir(parents=True, exist_ok=True)
            source.rename(target)
        moved[relative.parts[0]] += int(json.loads((landing / MANIFEST_DIR / relative).read_text())["lines"])
    return dict(moved)
