"""Shared helpers over fct_events: which events feed features, and time arithmetic in UTC."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as sf

SECONDS_PER_DAY = 86_400.0


def to_utc_naive(timestamps: pd.Series) -> pd.Series:
    """Timestamps as UTC without a zone (what Arrow hands pandas under a UTC session time zone)."""
    values = pd.to_datetime(timestamps)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values


def age_in_days(timestamps: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """Days between each timestamp and `as_of` (fractional; 0 for clocks running ahead of it)."""
    seconds = (pd.Timestamp(as_of) - to_utc_naive(timestamps)).dt.total_seconds()
    return (seconds / SECONDS_PER_DAY).clip(lower=0.0)


def latest_event_ts(events: DataFrame) -> pd.Timestamp:
    """The reference time for recency: the newest event (deterministic, unlike the wall clock)."""
    # as epoch microseconds: collecting a timestamp would convert it to the driver's local zone
    latest = events.agg(sf.unix_micros(sf.max("event_ts"))).first()
    if latest is None or latest[0] is None:
        return pd.Timestamp(0, unit="us")
    return pd.Timestamp(int(latest[0]), unit="us")


def human_events(events: DataFrame) -> DataFrame:
    """Known, non-bot users' events: bots are flagged upstream and kept out of features and training."""
    return events.where(sf.col("user_id").isNotNull() & ~sf.coalesce(sf.col("is_bot"), sf.lit(False)))
