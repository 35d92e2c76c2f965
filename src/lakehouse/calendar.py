"""Calendar dimension as a plain pandas function."""

from __future__ import annotations

import pandas as pd


def date_spine(start: str, end: str) -> pd.DataFrame:
    """One row per day from `start` to `end` inclusive, with ISO calendar attributes."""
    days = pd.date_range(start=start, end=end, freq="D")
    if days.empty:
        raise ValueError(f"empty calendar: start {start} is after end {end}")
    iso = days.isocalendar()
    return pd.DataFrame(
        {
            "date_day": days.date,
            "day_of_week": iso["day"].to_numpy(dtype="int32"),
            "iso_week": iso["week"].to_numpy(dtype="int32"),
            "month": days.month.astype("int32"),
            "year": days.year.astype("int32"),
            "is_weekend": iso["day"].to_numpy() >= 6,
        }
    )
