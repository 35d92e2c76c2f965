"""The mapping file of `lakehouse import`: how a source log's columns and values become the event
contract's fields. YAML (or JSON), small and declarative; presets live in `mappings/`.

    columns:        contract field (or product_name / category_id for the product feed): source column
    constants:      contract field: the same value on every event (e.g. event_type: purchase)
    event_types:    source event-type value: contract event type (a value not listed does not map)
    values:         field: {source value: contract value} (an optional field's unlisted value -> empty)
    rewrite:        field: [regex, replacement], applied to the text before anything else
    require:        field: regex its text must match, else the row does not map
    timestamp:      format (strftime pattern, ISO8601, epoch_s or epoch_ms) and time_zone of local times
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from lakehouse.contracts.events import EVENT_TYPES, LATEST_EVENTS
from lakehouse.errors import LakehouseError

PRESETS_DIR = Path(__file__).parent / "mappings"
# Besides the event contract's fields, a mapping may name the product feed's name and category
PRODUCT_FIELDS = ("product_name", "category_id")
EPOCH_FORMATS = {"epoch_s": "s", "epoch_ms": "ms"}
SECTIONS = ("columns", "constants", "event_types", "values", "rewrite", "require", "timestamp", "format")


@dataclass(frozen=True)
class Mapping:
    """A validated mapping; `name` is the file it came from."""

    name: str
    columns: dict[str, str]
    constants: dict[str, str] = field(default_factory=dict)
    event_types: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    rewrite: dict[str, tuple[str, str]] = field(default_factory=dict)
    require: dict[str, str] = field(default_factory=dict)
    timestamp_format: str = "ISO8601"
    time_zone: str = "UTC"
    source_format: str | None = None  # csv or parquet; by the file's extension when None
    text: str = ""  # the file as read: part of the import's identity

    def source(self, name: str) -> str | None:
        """The source column of a contract field, or None."""
        return self.columns.get(name)


def load_mapping(reference: str) -> Mapping:
    """A mapping from a file path or a preset name (a file in PRESETS_DIR without its extension)."""
    path = Path(reference)
    if not path.exists():
        preset = PRESETS_DIR / f"{reference}.yml"
        if not preset.exists():
            presets = ", ".join(sorted(p.stem for p in PRESETS_DIR.glob("*.yml")))
            raise LakehouseError(f"mapping {reference!r}: no such file, nor a preset ({presets})")
        path = preset
    text = path.read_text()
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise LakehouseError(f"mapping {path}: not valid YAML/JSON ({exc})") from exc
    return parse_mapping(document or {}, name=str(path), text=text)


def parse_mapping(document: dict[str, Any], name: str = "<mapping>", text: str = "") -> Mapping:
    """Validate a mapping document; every problem is a LakehouseError naming the mapping and key."""
    unknown = set(document) - set(SECTIONS)
    if unknown:
        raise LakehouseError(
            f"mapping {name}: unknown sections {sorted(unknown)} (allowed: {', '.join(SECTIONS)})"
        )
    fields = set(LATEST_EVENTS.field_names) | set(PRODUCT_FIELDS)
    columns = {str(k): str(v) for k, v in (document.get("columns") or {}).items() if v is not None}
    constants = {str(k): str(v) for k, v in (document.get("constants") or {}).items()}
    for section, names in (("columns", columns), ("constants", constants)):
        strangers = sorted(set(names) - fields)
        if strangers:
            raise LakehouseError(f"mapping {name}: {section} names fields outside the contract: {strangers}")
    for required in ("event_type", "event_ts", "product_id"):
        if required not in columns and required not in constants:
            raise LakehouseError(f"mapping {name}: `{required}` needs a column or a constant")
    event_types = {str(k): str(v) for k, v in (document.get("event_types") or {}).items()}
    wrong = sorted(
        {*event_types.values(), *([constants["event_type"]] if "event_type" in constants else [])}
        - set(EVENT_TYPES)
    )
    if wrong:
        raise LakehouseError(
            f"mapping {name}: event types outside the contract: {wrong} (allowed: {EVENT_TYPES})"
        )
    if "event_type" in columns and not event_types:
        raise LakehouseError(
            f"mapping {name}: event_type comes from a column, so `event_types` must map its values"
        )
    rewrite = {}
    for key, pair in (document.get("rewrite") or {}).items():
        if not isinstance(pair, list) or len(pair) != 2:
            raise LakehouseError(f"mapping {name}: rewrite.{key} must be [regex, replacement]")
        rewrite[str(key)] = (_regex(name, f"rewrite.{key}", str(pair[0])), str(pair[1]))
    require = {
        str(k): _regex(name, f"require.{k}", str(v)) for k, v in (document.get("require") or {}).items()
    }
    timestamp = document.get("timestamp") or {}
    source_format = document.get("format")
    if source_format not in (None, "csv", "parquet"):
        raise LakehouseError(f"mapping {name}: format must be csv or parquet, not {source_format!r}")
    return Mapping(
        name=name,
        columns=columns,
        constants=constants,
        event_types=event_types,
        values={
            str(k): {str(a): str(b) for a, b in v.items()} for k, v in (document.get("values") or {}).items()
        },
        rewrite=rewrite,
        require=require,
        timestamp_format=str(timestamp.get("format", "ISO8601")),
        time_zone=str(timestamp.get("time_zone", "UTC")),
        source_format=source_format,
        text=text,
    )


def _regex(name: str, key: str, pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise LakehouseError(f"mapping {name}: {key} is not a regular expression ({exc})") from exc
    return pattern
