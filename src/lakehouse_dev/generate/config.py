"""Knobs of the synthetic world: scale, time span, and how dirty the landed data is."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from datetime import date

from lakehouse.errors import LakehouseError

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
DEFAULT_START = date(2026, 3, 2)  # a Monday, inside the dbt calendar


def parse_scale(text: str) -> int:
    """`50k`, `1.5M`, `10M` or a plain integer → number of events."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not match:
        raise LakehouseError(f"--scale {text!r}: expected a number of events such as 50000, 50k or 10M")
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    return int(float(match.group(1)) * factor)


@dataclass(frozen=True)
class GenerateConfig:
    """Everything that determines the generated data: same config, same bytes."""

    scale_events: int = 60_000
    days: int = 7
    seed: int = 42
    start_date: date = DEFAULT_START
    users: int | None = None  # default: one user per ~25 events
    products: int | None = None  # default: one product per ~100 events, 200..20,000
    bot_event_share: float = 0.08  # a few very heavy bots (a skewed key)
    duplicate_rate: float = 0.01  # client retries: same event_id landed twice
    late_rate: float = 0.02  # offline clients: lands 1-3 days after it happened
    out_of_order_rate: float = 0.03  # client clock behind: event_ts earlier than neighbours
    malformed_rate: float = 0.001  # truncated JSON, wrong types, missing fields, invalid UTF-8
    string_number_rate: float = 0.05  # cart/purchase events whose quantity/price arrive as JSON strings
    drift_start_fraction: float = 0.5  # `app_version` (contract v2) appears from here on
    extra_field_rate: float = 0.05  # share of late events carrying an unknown `experiment_id` field
    cdc_malformed_rate: float = 0.001
    max_lines_per_file: int = 250_000
    gzip: bool = False

    def __post_init__(self) -> None:
        if self.scale_events < 100:
            raise LakehouseError(f"scale {self.scale_events}: generate at least 100 events")
        if not 1 <= self.days <= 366:
            raise LakehouseError(f"days {self.days}: must be between 1 and 366")
        for name in ("bot_event_share", "duplicate_rate", "late_rate", "out_of_order_rate", "malformed_rate"):
            value = getattr(self, name)
            if not 0.0 <= value < 0.5:
                raise LakehouseError(f"{name}={value}: must be in [0, 0.5)")

    @classmethod
    def from_env(cls) -> GenerateConfig:
        """The `lakehouse run` sample: LAKEHOUSE_SAMPLE_EVENTS (e.g. 60k), _DAYS and _SEED."""
        events = os.environ.get("LAKEHOUSE_SAMPLE_EVENTS")
        days = os.environ.get("LAKEHOUSE_SAMPLE_DAYS") or str(cls.days)
        seed = os.environ.get("LAKEHOUSE_SAMPLE_SEED") or str(cls.seed)
        if not days.isdigit() or not seed.isdigit():
            raise LakehouseError(
                f"LAKEHOUSE_SAMPLE_DAYS={days!r} and LAKEHOUSE_SAMPLE_SEED={seed!r} must be integers"
            )
        scale = parse_scale(events) if events else cls.scale_events
        return cls(scale_events=scale, days=int(days), seed=int(seed))

    @property
    def n_users(self) -> int:
        return self.users or max(200, self.scale_events // 25)

    @property
    def n_products(self) -> int:
        return self.products or min(20_000, max(200, self.scale_events // 100))

    def as_dict(self) -> dict[str, object]:
        values = asdict(self)
        values["start_date"] = self.start_date.isoformat()
        return values

    @property
    def tag(self) -> str:
        """Short, stable name of this configuration; landing file names carry it, so generations
        with different settings never overwrite each other's files."""
        digest = hashlib.sha1(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:8]
        return f"{self.start_date:%Y%m%d}-s{self.seed}-{digest}"
