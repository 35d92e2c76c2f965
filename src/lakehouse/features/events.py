"""Shared helpers over fct_events: which events feed features, and time arithmetic in UTC."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as sf

MICROS_PER_DAY = 86_400 * 1_000_000.0
# The incremental watermark of fct_events and of the tables computed from it: the newest bronze
# ingestion a row reflects. Such a table stores the newest fct_events value it has seen, which tells
# the next run whether fct_events changed since (every rebuilt event date gets a newer one).
WATERMARK = "_ingested_at"


def to_utc_naive(timestamps: pd.Series) -> pd.Series:
    """Timestamps as UTC without a zone (what Arrow hands pandas under a UTC session time zone)."""
    values = pd.to_datetime(timestamps)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values


def age_in_days(timestamps: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """Days between each timestamp and `as_of` (fractional; 0 for clocks running ahead of it; null
    for a null timestamp). Whole microseconds divided once, as age_in_days_column does in Spark, so
    that both give the same double to the last bit."""
    micros = (pd.Timestamp(as_of) - to_utc_naive(timestamps)) // pd.Timedelta(microseconds=1)
    return (micros.astype("float64") / MICROS_PER_DAY).clip(lower=0.0)


def age_in_days_column(timestamp: str, as_of: pd.Timestamp) -> Column:
    """Spark twin of age_in_days for a timestamp column."""
    as_of_micros = sf.lit(int(pd.Timestamp(as_of).value // 1_000))
    days = (as_of_micros - sf.unix_micros(sf.col(timestamp))) / sf.lit(MICROS_PER_DAY)
    # not greatest(days, 0): greatest skips nulls, and a user who never bought has no purchase age
    return sf.when(days < 0, sf.lit(0.0)).otherwise(days)


def newest_micros(frame: DataFrame, column: str) -> int | None:
    """The newest value of a timestamp column in epoch microseconds (None for no values)."""
    # as epoch microseconds: collecting a timestamp would convert it to the driver's local zone
    newest = frame.agg(sf.max(sf.unix_micros(sf.col(column)))).first()
    return None if newest is None or newest[0] is None else int(newest[0])


def micros_timestamp(micros: int | None) -> Column:
    """A timestamp literal from epoch microseconds (a null timestamp for None)."""
    return sf.timestamp_micros(sf.lit(micros)) if micros is not None else sf.lit(None).cast("timestamp")


def latest_event_ts(events: DataFrame) -> pd.Timestamp:
    """The reference time for recency: the newest event (deterministic, unlike the wall clock)."""
    return pd.Timestamp(newest_micros(events, "event_ts") or 0, unit="us")


def human_events(events: DataFrame) -> DataFrame:
    """Known, non-bot users' events: bots are flagged upstream and kept out of features and training."""
    return events.where(sf.col("user_id").isNotNull() & ~sf.coalesce(sf.col("is_bot"), sf.lit(False)))
