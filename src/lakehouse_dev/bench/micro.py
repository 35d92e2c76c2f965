"""Self-contained side-by-side micro-benchmarks on one DataFrame of events, in the running session.

(a) the same per-event features as a row-at-a-time Python UDF and as a vectorized pandas UDF,
(b) one sessions + daily-marts query under the project's tuned settings and under Spark defaults,
(e) `toPandas()` with and without Arrow.

Timed actions write to Spark's `noop` sink: every row is computed, nothing is stored, so the figure is
the computation itself and not disk speed. Inputs are cached first so both sides read the same
in-memory data.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as sf
from pyspark.sql.types import BooleanType, DoubleType, StructField, StructType

from lakehouse.errors import LakehouseError
from lakehouse.spark import runtime_conf

SECONDS_PER_DAY = 86_400
# 1970-01-01 was a Thursday: (days since epoch + 3) % 7 gives Monday = 0 ... Sunday = 6.
EPOCH_WEEKDAY_OFFSET = 3
RADIANS_PER_SECOND_OF_DAY = 2 * math.pi / SECONDS_PER_DAY
FEATURES_SCHEMA = StructType(
    [
        StructField("log_price", DoubleType()),
        StructField("line_value", DoubleType()),
        StructField("hour_sin", DoubleType()),
        StructField("hour_cos", DoubleType()),
        StructField("is_weekend", BooleanType()),
    ]
)
FEATURE_NAMES = tuple(field.name for field in FEATURES_SCHEMA.fields)
# The clickstream columns feature code reads: what the micro-benchmarks compute on and collect.
EVENT_COLUMNS = (
    "event_id",
    "event_type",
    "event_ts",
    "user_id",
    "product_id",
    "price",
    "quantity",
    "device_type",
    "channel",
)
# Spark's own defaults, which the tuned session overrides (NOTES.md: 200 partitions cost time on 2 cores).
SPARK_DEFAULT_CONF = {"spark.sql.shuffle.partitions": "200", "spark.sql.adaptive.enabled": "false"}
T = TypeVar("T")
EventFeatures = tuple[float | None, float | None, float | None, float | None, bool | None]


# --- (a) the features, twice: one row at a time, and a whole Arrow batch at a time ---------------


def event_features_row(price: float | None, quantity: int | None, epoch_seconds: int | None) -> EventFeatures:
    """Features of one event: log price, line value, time of day on the unit circle, weekend flag."""
    log_price = math.log1p(price) if price is not None and price >= 0 else None
    line_value = price * quantity if price is not None and quantity is not None else None
    if epoch_seconds is None:
        return log_price, line_value, None, None, None
    angle = (epoch_seconds % SECONDS_PER_DAY) * RADIANS_PER_SECOND_OF_DAY
    weekday = (epoch_seconds // SECONDS_PER_DAY + EPOCH_WEEKDAY_OFFSET) % 7
    return log_price, line_value, math.sin(angle), math.cos(angle), weekday >= 5


def event_features_vectorized(
    price: pd.Series, quantity: pd.Series, epoch_seconds: pd.Series
) -> pd.DataFrame:
    """The same features over whole columns with numpy; NaN comes back to Spark as null."""
    prices = price.to_numpy(dtype="float64", na_value=np.nan)
    quantities = quantity.to_numpy(dtype="float64", na_value=np.nan)
    seconds = epoch_seconds.to_numpy(dtype="float64", na_value=np.nan)
    angle = np.mod(seconds, SECONDS_PER_DAY) * RADIANS_PER_SECOND_OF_DAY
    weekday = np.mod(np.floor_divide(seconds, SECONDS_PER_DAY) + EPOCH_WEEKDAY_OFFSET, 7)
    return pd.DataFrame(
        {
            "log_price": np.log1p(np.where(prices >= 0, prices, np.nan)),
            "line_value": prices * quantities,
            "hour_sin": np.sin(angle),
            "hour_cos": np.cos(angle),
            "is_weekend": pd.arrays.BooleanArray(weekday >= 5, np.isnan(seconds)),
        }
    )


def passthrough(price: pd.Series, quantity: pd.Series, epoch_seconds: pd.Series) -> pd.Series:
    """No feature work: the pandas UDF round trip (Arrow out, pandas in and out, Arrow back) alone."""
    return price


def feature_inputs(events: DataFrame) -> list[Column]:
    """The UDF arguments: epoch seconds rather than timestamps, because row UDFs get timestamps in the
    worker's local time zone while pandas UDFs get them in the session time zone."""
    return [
        sf.col("price").cast("double"),
        sf.col("quantity").cast("int"),
        sf.unix_seconds(sf.col("event_ts")),
    ]


def row_udf(use_arrow: bool) -> Callable[..., Column]:
    return sf.udf(event_features_row, FEATURES_SCHEMA, useArrow=use_arrow)


def vectorized_udf(
    features: Callable[[pd.Series, pd.Series, pd.Series], pd.DataFrame] = event_features_vectorized,
) -> Callable[..., Column]:
    return sf.pandas_udf(features, FEATURES_SCHEMA)  # type: ignore[call-overload]


def feature_mismatches(
    events: DataFrame,
    vectorized: Callable[[pd.Series, pd.Series, pd.Series], pd.DataFrame] = event_features_vectorized,
    tolerance: float = 1e-9,
) -> int:
    """Rows where the row-at-a-time and `vectorized` features differ (null vs value, or beyond tolerance)."""
    both = events.select(
        row_udf(False)(*feature_inputs(events)).alias("r"),
        vectorized_udf(vectorized)(*feature_inputs(events)).alias("v"),
    )
    differs = sf.lit(False)
    for name in FEATURE_NAMES:
        row_value, vec_value = sf.col(f"r.{name}"), sf.col(f"v.{name}")
        if name == "is_weekend":
            same = row_value.eqNullSafe(vec_value)
        else:
            same = row_value.eqNullSafe(vec_value) | (
                sf.abs(row_value - vec_value)
                <= sf.lit(tolerance) * sf.greatest(sf.lit(1.0), sf.abs(row_value))
            )
        differs = differs | ~same
    return both.where(differs).count()


# --- timing helpers --------------------------------------------------------------------------------


def run_to_noop(frame: DataFrame) -> None:
    """Compute every row of `frame` and discard it."""
    frame.write.format("noop").mode("overwrite").save()


def timed(action: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def seconds_of(action: Callable[[], object]) -> float:
    return timed(action)[0]


def best_of(repeats: int, action: Callable[[], object]) -> float:
    """The fastest of `repeats` runs: the run least disturbed by other work on a shared machine."""
    return min(seconds_of(action) for _ in range(max(1, repeats)))


@dataclass(frozen=True)
class Comparison:
    """Two timings of the same work; `ratio` = baseline / candidate (above 1: the candidate is faster)."""

    baseline_seconds: float
    candidate_seconds: float
    rows: int

    @property
    def ratio(self) -> float:
        return self.baseline_seconds / self.candidate_seconds if self.candidate_seconds > 0 else float("inf")


# --- synthetic events when no pipeline data exists -------------------------------------------------


def synthetic_events(spark: SparkSession, rows: int, days: int = 30, partitions: int = 4) -> DataFrame:
    """Event-shaped rows made on the JVM (no Python loop): a few heavy users, ~1% duplicate ids,
    prices and quantities only on commerce events, timestamps spread over `days` days."""
    users = max(10, rows // 50)
    event_types = sf.array(
        *(sf.lit(t) for t in ("page_view", "product_view", "search", "add_to_cart", "purchase"))
    )
    devices = sf.array(*(sf.lit(d) for d in ("desktop", "mobile", "tablet")))
    channels = sf.array(*(sf.lit(c) for c in ("direct", "organic_search", "paid_search", "social", "email")))
    rnd = sf.rand(seed=7)
    frame = spark.range(0, rows, numPartitions=partitions).select(
        # ~1% of ids repeat an earlier one, like the landed data's duplicates
        sf.when(sf.col("id") % 100 == 99, sf.col("id") - 1).otherwise(sf.col("id")).alias("n"),
        (sf.pow(rnd, sf.lit(3)) * users).cast("long").alias("user_n"),  # skewed: low ids are heavy
        sf.rand(seed=11).alias("r_time"),
        sf.rand(seed=13).alias("r_kind"),
    )
    event_type = sf.element_at(event_types, (sf.col("r_kind") * 5).cast("int") + 1)
    is_commerce = event_type.isin("product_view", "add_to_cart", "purchase")
    return frame.select(
        sf.concat(sf.lit("e"), sf.col("n")).alias("event_id"),
        event_type.alias("event_type"),
        sf.timestamp_seconds(
            sf.lit(1_767_225_600) + (sf.col("r_time") * days * SECONDS_PER_DAY).cast("long")
        ).alias("event_ts"),
        sf.concat(sf.lit("u"), sf.col("user_n")).alias("user_id"),
        sf.element_at(devices, (sf.col("user_n") % 3).cast("int") + 1).alias("device_type"),
        sf.element_at(channels, (sf.col("n") % 5).cast("int") + 1).alias("channel"),
        sf.concat(sf.lit("/p/"), (sf.col("n") % 997)).alias("page_url"),
        sf.when(is_commerce, sf.concat(sf.lit("p"), sf.col("n") % 500)).alias("product_id"),
        sf.when(is_commerce, sf.round(sf.col("r_kind") * 200 + 1, 2)).alias("price"),
        sf.when(is_commerce, (sf.col("n") % 3 + 1).cast("int")).alias("quantity"),
        sf.lit("USD").alias("currency"),
        sf.lit("US").alias("country_code"),
    )


# --- (b) one representative query: sessions and daily marts ---------------------------------------


def sessions_and_daily_query(events: DataFrame, gap_seconds: int = 30 * 60) -> tuple[DataFrame, DataFrame]:
    """Dedupe, sessionize by inactivity gap, aggregate sessions and a daily mart: three shuffles, the
    shape of the pipeline's heaviest SQL."""
    from pyspark.sql import Window

    deduped = events.dropDuplicates(["event_id"]).where(sf.col("user_id").isNotNull())
    by_user = Window.partitionBy("user_id").orderBy("event_ts", "event_id")
    previous_ts = sf.lag("event_ts").over(by_user)
    starts = sf.when(
        previous_ts.isNull()
        | (sf.unix_seconds(sf.col("event_ts")) - sf.unix_seconds(previous_ts) > gap_seconds),
        1,
    ).otherwise(0)
    numbered = deduped.withColumn("is_start", starts).withColumn(
        "session_number", sf.sum("is_start").over(by_user.rowsBetween(Window.unboundedPreceding, 0))
    )
    revenue = sf.when(sf.col("event_type") == "purchase", sf.col("price") * sf.col("quantity"))
    sessions = numbered.groupBy("user_id", "session_number").agg(
        sf.min("event_ts").alias("session_start"),
        sf.max("event_ts").alias("session_end"),
        sf.count("*").alias("events"),
        sf.sum(sf.when(sf.col("event_type") == "page_view", 1).otherwise(0)).alias("page_views"),
        sf.max(sf.col("event_type") == "purchase").alias("has_purchase"),
        sf.coalesce(sf.sum(revenue), sf.lit(0.0)).alias("revenue"),
        sf.first("device_type").alias("device_type"),
        sf.first("channel").alias("channel"),
    )
    daily = sessions.groupBy(sf.to_date("session_start").alias("session_date"), "device_type", "channel").agg(
        sf.count("*").alias("sessions"),
        sf.sum(sf.col("has_purchase").cast("int")).alias("converted_sessions"),
        sf.sum("revenue").alias("revenue"),
    )
    return sessions, daily


# --- the three comparisons -------------------------------------------------------------------------


def compare_udfs(events: DataFrame, repeats: int = 1) -> dict[str, float | int]:
    """(a) pickled row-at-a-time UDF vs Arrow row UDF vs pandas UDF on the same cached input."""
    inputs = events.select("event_id", "price", "quantity", "event_ts").cache()
    rows = inputs.count()
    args = feature_inputs(inputs)
    # Start a Python worker per core (and load pandas/pyarrow in it) before timing: a sample keeps
    # every partition, so every concurrent task runs; a limit() would warm one worker only.
    warm = inputs.sample(fraction=min(1.0, 20_000 / max(rows, 1)), seed=1)
    for make in (lambda: row_udf(False), lambda: row_udf(True), vectorized_udf):
        run_to_noop(warm.select(make()(*feature_inputs(warm))))
    scan_seconds = best_of(repeats, lambda: run_to_noop(inputs.select(*args)))
    row_seconds = best_of(repeats, lambda: run_to_noop(inputs.select(row_udf(False)(*args))))
    arrow_row_seconds = best_of(repeats, lambda: run_to_noop(inputs.select(row_udf(True)(*args))))
    vectorized_seconds = best_of(repeats, lambda: run_to_noop(inputs.select(vectorized_udf()(*args))))
    passthrough_udf = sf.pandas_udf(passthrough, DoubleType())  # type: ignore[call-overload]
    passthrough_seconds = best_of(repeats, lambda: run_to_noop(inputs.select(passthrough_udf(*args))))
    mismatches = feature_mismatches(inputs)
    inputs.unpersist()
    if mismatches:
        raise LakehouseError(f"vectorized and row-at-a-time features differ on {mismatches} of {rows} rows")
    return {
        "udf_rows": rows,
        # the same query without a UDF: the share of every side that is scan and Spark overhead
        "udf_scan_only_seconds": round(scan_seconds, 3),
        "udf_row_at_a_time_seconds": round(row_seconds, 3),
        "udf_arrow_row_seconds": round(arrow_row_seconds, 3),
        "udf_vectorized_seconds": round(vectorized_seconds, 3),
        # the same three columns through a pandas UDF that computes nothing: the transport floor
        "udf_pandas_passthrough_seconds": round(passthrough_seconds, 3),
        "udf_vectorized_speedup": round(Comparison(row_seconds, vectorized_seconds, rows).ratio, 2),
    }


def compare_tuned_vs_default(
    spark: SparkSession,
    events: DataFrame,
    query: Callable[[DataFrame], tuple[DataFrame, ...]] = sessions_and_daily_query,
    repeats: int = 2,
) -> dict[str, float | int]:
    """(b) the same query under the session's tuned confs and under Spark's defaults, alternating runs."""
    cached = events.cache()
    rows = cached.count()

    def run_query() -> None:
        for frame in query(cached):
            run_to_noop(frame)

    tuned: list[float] = []
    default: list[float] = []
    run_query()  # warm-up: JIT, code generation caches
    for _ in range(max(1, repeats)):
        with runtime_conf(spark, SPARK_DEFAULT_CONF):
            default.append(seconds_of(run_query))
        tuned.append(seconds_of(run_query))
    cached.unpersist()
    comparison = Comparison(min(default), min(tuned), rows)
    return {
        "tuned_rows": rows,
        "tuned_seconds": round(comparison.candidate_seconds, 3),
        "default_conf_seconds": round(comparison.baseline_seconds, 3),
        "tuned_shuffle_partitions": int(spark.conf.get("spark.sql.shuffle.partitions") or 0),
        "tuned_vs_default_speedup": round(comparison.ratio, 2),
    }


def frame_differences(left: pd.DataFrame, right: pd.DataFrame) -> int:
    """Rows that differ between two collections of the same rows in the same order (shape,
    columns, then values: NaN equals NaN, numbers to 9 places; dtypes may differ between the pickled
    and the Arrow path). A different shape or column list counts every row."""
    if left.shape != right.shape or list(left.columns) != list(right.columns):
        return max(len(left), len(right))
    differs = pd.Series(False, index=range(len(left)))
    for column in left.columns:
        a, b = left[column].reset_index(drop=True), right[column].reset_index(drop=True)
        both_missing = a.isna() & b.isna()
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            same = (a.astype(float) - b.astype(float)).abs().le(1e-9)
        else:
            same = a.astype(str) == b.astype(str)
        differs |= ~(same | both_missing)
    return int(differs.sum())


def compare_topandas(spark: SparkSession, events: DataFrame, repeats: int = 1) -> dict[str, float | int]:
    """(e) `toPandas()` of the same cached rows with Arrow and with the row-by-row (pickled) path."""
    cached = events.cache()
    rows = cached.count()
    plain_seconds, plain = float("inf"), pd.DataFrame()
    arrow_seconds, arrow = float("inf"), pd.DataFrame()
    for _ in range(max(1, repeats)):
        with runtime_conf(spark, {"spark.sql.execution.arrow.pyspark.enabled": "false"}):
            seconds, plain = timed(cached.toPandas)
            plain_seconds = min(plain_seconds, seconds)
        with runtime_conf(spark, {"spark.sql.execution.arrow.pyspark.enabled": "true"}):
            seconds, arrow = timed(cached.toPandas)
            arrow_seconds = min(arrow_seconds, seconds)
    cached.unpersist()
    differing = frame_differences(plain, arrow)
    if differing:
        raise LakehouseError(f"toPandas with and without Arrow disagree on {differing} of {rows} rows")
    return {
        "topandas_rows": rows,
        "topandas_plain_seconds": round(plain_seconds, 3),
        "topandas_arrow_seconds": round(arrow_seconds, 3),
        "arrow_topandas_speedup": round(Comparison(plain_seconds, arrow_seconds, rows).ratio, 2),
    }
