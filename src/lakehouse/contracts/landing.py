"""The landing zone's layout: what a producer delivers and what ingestion reconciles against.

    <landing>/<feed>/arrival_date=YYYY-MM-DD/<name>.jsonl[.gz]              one JSON object per line
    <landing>/_manifests/<feed>/arrival_date=YYYY-MM-DD/<name>.jsonl.json    {"lines": n, ...}

A manifest is the producer's own count of the lines in a file. Producers that write none (Kafka
sinks, Snowplow, Segment, a colleague's script) are welcome: ingestion counts such a file's lines
itself, from its bytes and not from what the parser made of them, and keeps the count as a
manifest of its own (`counted_by`), so `landed = bronze + quarantined` stays exact.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from lakehouse.contracts.cdc import CDC_FEEDS

FEEDS = ("events", *(f"cdc_{feed}" for feed in CDC_FEEDS))
MANIFEST_DIR = "_manifests"  # a leading underscore hides it from Spark's file listing
FILE_GLOB = "*.{jsonl,jsonl.gz}"  # Spark's pathGlobFilter
SUFFIXES = (".jsonl", ".jsonl.gz")
COUNTED_BY = "lakehouse ingest"  # `counted_by` of a manifest ingestion wrote for a file that had none


def manifest_path(landing: Path, relative: Path) -> Path:
    """Where the manifest of `<landing>/<relative>` lives."""
    return landing / MANIFEST_DIR / relative.parent / f"{relative.name}.json"


def land_file(
    landing: Path,
    feed: str,
    arrival: date,
    name: str,
    data: bytes,
    lines: int,
    malformed: int,
    generation: str,
) -> dict[str, object]:
    """Write one landed file, `<landing>/<feed>/arrival_date=<day>/<name>`, and its manifest (the
    line count ingestion reconciles to); returns the manifest. Shared by every producer in the
    project: the sample generator and `lakehouse import`."""
    relative = Path(feed) / f"arrival_date={arrival:%Y-%m-%d}" / name
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    manifest: dict[str, object] = {
        "feed": feed,
        "file": relative.as_posix(),
        "arrival_date": arrival.isoformat(),
        "lines": lines,
        "malformed_lines": malformed,
        "bytes": len(data),
        "generation": generation,
    }
    written = manifest_path(landing, relative)
    written.parent.mkdir(parents=True, exist_ok=True)
    written.write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def landed_files(landing: Path, feed: str) -> Iterator[Path]:
    """Every file Spark's text source reads for `feed`, relative to `landing` (hidden names and
    names starting with `_` are skipped, as Spark skips them)."""
    root = landing / feed
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        hidden = any(part.startswith(("_", ".")) for part in relative.parts)
        if path.is_file() and path.name.endswith(SUFFIXES) and not hidden:
            yield path.relative_to(landing)


def count_lines(path: Path) -> int:
    """Lines as Spark's text source splits them: `\\n`, `\\r\\n` or `\\r` end a line, and a last line
    without an end still counts (blank lines count too: they are quarantined, not lost)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    lines, previous = 0, b""
    with opener(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if previous == b"\r" and chunk.startswith(b"\n"):
                lines -= 1  # a \r\n split across two chunks
            previous = chunk[-1:]
    return lines + (1 if previous not in (b"", b"\n", b"\r") else 0)


@dataclass(frozen=True)
class LandedCount:
    lines: int  # landed lines of the feed: producers' manifests, else counted
    files: int
    files_without_manifest: int  # files a producer sent no manifest for (counted by ingestion)


def landed_count(landing: Path, feed: str) -> LandedCount:
    """The feed's landed lines, writing a manifest for each file that came without one."""
    lines = files = counted = 0
    for relative in landed_files(landing, feed):
        manifest = read_manifest(landing, relative)
        if manifest is None:
            manifest = {"file": relative.as_posix(), "lines": count_lines(landing / relative)}
            manifest["counted_by"] = COUNTED_BY
            path = manifest_path(landing, relative)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(manifest, indent=1) + "\n")
        files += 1
        counted += manifest.get("counted_by") == COUNTED_BY
        lines += int(manifest["lines"])
    return LandedCount(lines=lines, files=files, files_without_manifest=counted)


def read_manifest(landing: Path, relative: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(manifest_path(landing, relative).read_text()))
    except FileNotFoundError:
        return None
