"""`import_log()`: a CSV or Parquet event log -> the landing zone, as the generator lands data.

Events land as contract JSON lines by arrival date (the event's UTC date), with the change feeds an
event log implies: a snapshot of every product and user at the log's first event, and an order per
order id of the purchase events (its total the sum of their lines, as the reconciliation test
demands). Every file gets the generator's manifest, so `lakehouse ingest` and dbt run unchanged.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml  # type: ignore[import-untyped]

from lakehouse.config import project_dir
from lakehouse.contracts.landing import MANIFEST_DIR, land_file
from lakehouse.errors import LakehouseError
from lakehouse.importer.behaviour import behaviour_figures, sessionize
from lakehouse.importer.convert import (
    EVENT_FIELDS,
    TIMESTAMP_FORMAT,
    busy_visitor_days,
    map_events,
    orders,
    products,
    users,
)
from lakehouse.importer.mapping import Mapping

IMPORTS_DIR = "imports"  # under the landing zone's _manifests/: one record per import


@dataclass
class ImportResult:
    """What one import landed (or found already landed), and what did not map."""

    tag: str
    source: str
    mapping: str
    skipped: bool
    rows_read: int
    events: int
    dropped: dict[str, int]
    emptied: dict[str, int]
    unused_columns: list[str]
    lines: dict[str, int]
    files: int
    first_event: str | None
    last_event: str | None
    busy_visitor_days: int
    notes: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_source(path: Path, mapping: Mapping) -> pd.DataFrame:
    """Every column as text (ids such as 012 or 12923.0 stay as written), empty cells missing."""
    kind = mapping.source_format or ("parquet" if path.suffix.lower() in {".parquet", ".pq"} else "csv")
    if not path.exists():
        raise LakehouseError(f"{path}: no such file")
    if kind == "parquet":
        frame = pd.read_parquet(path)
        return frame.astype("string").mask(frame.isna())
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def project_vars() -> dict[str, Any]:
    """The vars of dbt_project.yml (the calendar and the bot threshold an import must respect)."""
    document = yaml.safe_load((project_dir() / "dbt_project.yml").read_text())
    return dict(document.get("vars") or {})


def _json_lines(frame: pd.DataFrame) -> pd.Series:
    """One compact JSON object per row (missing values as null)."""
    if frame.empty:
        return pd.Series([], index=frame.index, dtype=object)
    text = frame.to_json(orient="records", lines=True, force_ascii=False)
    return pd.Series(text.splitlines(), index=frame.index, dtype=object)


def _iso(timestamps: pd.Series) -> pd.Series:
    """UTC timestamps as the generator writes them: 2026-03-02T10:00:00.000Z."""
    return timestamps.dt.strftime(TIMESTAMP_FORMAT).str.slice(0, 23) + "Z"


def _envelopes(table: str, payload: pd.DataFrame, ts: pd.Series, op: str) -> pd.Series:
    """Debezium-style change lines (before null, after = payload) committed at `ts`; the LSN is the
    commit time in microseconds plus the row's place among changes of the same millisecond."""
    ms = (ts.astype("int64") // 1_000_000).to_numpy()
    order = np.lexsort((np.arange(len(ms)), ms))
    lsn = np.empty(len(ms), dtype=np.int64)
    lsn[order] = ms[order] * 1000 + (np.arange(len(ms)) - np.searchsorted(ms[order], ms[order]))
    source = (
        f',"source":{{"connector":"lakehouse-import","db":"import","table":"{table}","lsn":'
        + pd.Series(lsn, index=payload.index).astype(str)
        + ',"ts_ms":'
        + pd.Series(ms, index=payload.index).astype(str)
        + "}"
    )
    tail = f',"op":"{op}","ts_ms":' + pd.Series(ms, index=payload.index).astype(str) + "}"
    return '{"before":null,"after":' + _json_lines(payload) + source + tail


def feed_lines(events: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per feed: (day, line) rows, the day being the arrival date the line lands under."""
    event_rows = events[EVENT_FIELDS].assign(event_ts=_iso(events["event_ts"]))
    start = events["event_ts"].min()
    catalogue, people, bought = products(events), users(events), orders(events)
    product_payload = catalogue[["product_id", "product_name", "category_id", "price", "currency"]].assign(
        is_active=True, updated_at=_iso(catalogue["first_ts"])
    )
    user_payload = people[["user_id", "country_code"]].assign(
        signup_at=_iso(people["first_ts"]), updated_at=_iso(people["first_ts"])
    )
    order_payload = bought[["order_id", "user_id"]].assign(
        order_status="placed",
        order_total=bought["order_total"],
        currency=bought["currency"],
        item_count=bought["item_count"],
        created_at=_iso(bought["created_ts"]),
        updated_at=_iso(bought["created_ts"]),
    )
    snapshot_at = pd.Series(start, index=catalogue.index)
    return {
        "events": pd.DataFrame({"day": events["event_ts"].dt.date, "line": _json_lines(event_rows)}),
        "cdc_products": pd.DataFrame(
            {"day": start.date(), "line": _envelopes("products", product_payload, snapshot_at, "r")}
        ),
        "cdc_users": pd.DataFrame(
            {
                "day": start.date(),
                "line": _envelopes("users", user_payload, pd.Series(start, index=people.index), "r"),
            }
        ),
        "cdc_orders": pd.DataFrame(
            {
                "day": bought["created_ts"].dt.date,
                "line": _envelopes("orders", order_payload, bought["created_ts"], "c"),
            }
        ),
    }


def _per_day(lines: pd.DataFrame) -> Iterator[tuple[date, list[str]]]:
    for day, rows in lines.groupby("day", sort=True):
        yield day, list(rows["line"])


def _notes(events: pd.DataFrame, busy: int, settings: dict[str, Any]) -> list[str]:
    """What the project's rules will do with this log, and how to build it."""
    notes = []
    first, last = events["event_ts"].min().date(), events["event_ts"].max().date()
    start, end = (date.fromisoformat(str(settings[k])) for k in ("calendar_start", "calendar_end"))
    if first < start or last > end:
        calendar = (
            f"{{calendar_start: '{first.replace(day=1)}', calendar_end: '{last.replace(month=12, day=31)}'}}"
        )
        notes.append(
            f"events fall outside the dbt calendar ({start} .. {end}, vars calendar_start and "
            f'calendar_end): build with --vars "{calendar}"'
        )
    if busy:
        notes.append(
            f"{busy} visitor-days have more than {settings['bot_events_per_day']} events: dbt flags those "
            "visitors as bots (var bot_events_per_day) and leaves them out of sessions, marts and features"
        )
    if not (events["event_type"] != "purchase").any():
        notes.append(
            "purchases only: a user's recent interest is what they bought before; evaluate the "
            "recommender with --vars '{reco_allow_repurchase: true}' (repeat purchase)"
        )
    return notes


def _log_figures(events: pd.DataFrame) -> dict[str, float]:
    """Behaviour figures of the imported log (sessions cut at 30 idle minutes per visitor)."""
    visitor = events["user_id"].fillna(events["anonymous_id"]).to_numpy(str)
    ms = (events["event_ts"].astype("int64") // 1_000_000).to_numpy()
    frame = pd.DataFrame(
        {
            "visitor_id": visitor,
            "session_id": sessionize(visitor, ms),
            "event_type": events["event_type"].to_numpy(str),
            "product_id": events["product_id"].to_numpy(object),
            "event_ts": ms,
        }
    )
    return {name: round(value, 4) for name, value in behaviour_figures(frame).items()}


def import_log(source: Path, mapping: Mapping, landing: Path) -> ImportResult:
    """Map `source` with `mapping` and land it under `landing` (a no-op when this source and
    mapping already landed there)."""
    started = time.monotonic()
    source, landing = Path(source).resolve(), Path(landing).resolve()
    raw_bytes = source.read_bytes() if source.exists() else b""
    digest = hashlib.sha1(raw_bytes).hexdigest()
    tag = "import-" + hashlib.sha1((digest + mapping.text).encode()).hexdigest()[:10]
    record = landing / MANIFEST_DIR / IMPORTS_DIR / f"{tag}.json"
    if record.exists():
        stored = json.loads(record.read_text())
        if all((landing / name).exists() for name in stored.pop("file_list")):
            return ImportResult(**{**stored, "skipped": True, "seconds": 0.0})
    raw = read_source(source, mapping)
    events, unmapped = map_events(raw, mapping, id_prefix=digest[:12])
    if events.empty:
        reasons = "; ".join(f"{n} {reason}" for reason, n in unmapped.dropped.most_common(5))
        raise LakehouseError(f"{source.name}: no row maps to an event ({reasons})")
    settings = project_vars()
    busy = busy_visitor_days(events, int(settings["bot_events_per_day"]))
    files, lines = [], {}
    for feed, rows in feed_lines(events).items():
        lines[feed] = len(rows)
        for day, day_lines in _per_day(rows):
            payload = ("\n".join(day_lines) + "\n").encode()
            name = f"{feed}-{tag}-00000.jsonl"
            files.append(land_file(landing, feed, day, name, payload, len(day_lines), 0, tag))
    result = ImportResult(
        tag=tag,
        source=source.name,
        mapping=Path(mapping.name).name,
        skipped=False,
        rows_read=unmapped.rows_read,
        events=len(events),
        dropped=dict(unmapped.dropped.most_common()),
        emptied=dict(unmapped.emptied.most_common()),
        unused_columns=unmapped.unused_columns,
        lines=lines,
        files=len(files),
        first_event=str(events["event_ts"].min()),
        last_event=str(events["event_ts"].max()),
        busy_visitor_days=busy,
        notes=_notes(events, busy, settings),
        figures=_log_figures(events),
        seconds=round(time.monotonic() - started, 2),
    )
    record.parent.mkdir(parents=True, exist_ok=True)
    stored = {**result.as_dict(), "file_list": [str(m["file"]) for m in files]}
    stored.pop("skipped")
    record.write_text(json.dumps(stored, indent=1) + "\n")
    return result


# The most frequent reasons and values a report lists; the JSON record holds all of them
SHOWN = 10


def describe(result: ImportResult) -> str:
    """The import in a few lines: what landed, what did not map and why, and what to do next."""
    state = "already landed, skipped" if result.skipped else f"{result.seconds:.1f}s"
    lines = [
        f"import {result.tag}: {result.rows_read:,} rows of {result.source}, "
        f"mapping {result.mapping} ({state})",
        f"  landed {result.events:,} events ({result.first_event} .. {result.last_event} UTC), "
        + ", ".join(f"{n:,} {feed} lines" for feed, n in result.lines.items() if feed != "events")
        + f" in {result.files} files",
    ]
    dropped = sum(result.dropped.values())
    lines.append(f"  not mapped: {dropped:,} rows" + (":" if dropped else ""))
    lines += [f"    {n:>8,}  {reason}" for reason, n in list(result.dropped.items())[:SHOWN]]
    if result.emptied:
        lines.append(f"  values not mapped (field kept empty): {sum(result.emptied.values()):,}")
        lines += [f"    {n:>8,}  {value}" for value, n in list(result.emptied.items())[:SHOWN]]
    if result.unused_columns:
        lines.append(f"  source columns not used: {', '.join(result.unused_columns)}")
    lines += [f"  note: {note}" for note in result.notes]
    lines.append("  next: lakehouse ingest, then dbt build (DBT_PROFILES_DIR=profiles; --vars as noted)")
    return "\n".join(lines)
