"""The expectation suites of the quality gate, as code: what dbt's tests do not do well.

Structure lives in dbt (keys unique and not null, accepted values, relationships, enforced
contracts, row-level expressions) and is not repeated here: `tests/test_quality_layers.py` fails
if an expectation checks what a dbt test already checks. Great Expectations keeps three concerns:

- **bronze contract**: what ingestion's contract parse cannot see line by line: the share of a
  day's arrivals that went to quarantine, duplicates, implausible prices and quantities;
- **drift**: the newest complete day against the days before it (volume, anonymous share,
  purchase share, bot share, prices, conversion, session length): a source that changes its
  behaviour without breaking any rule;
- **reconciliation across tables**: each fact or feature table has exactly the rows its upstream
  says it must (computed by Spark at run time and passed to GX as suite parameters).

Tables are named by dbt model or source (`fct_events`, `source:clickstream.events`) and resolved to
relations from the manifest at run time, so a renamed schema follows. Severity: `critical` (the
default) fails the run and withholds what is built from the table; `warning` is reported and
audited only: drift usually flags a change in the data, not broken code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.metadata_types import FailureSeverity
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as sf

Parameters = dict[str, Any]
Relations = Mapping[str, str]  # model name, or `source:<source>.<table>` -> `schema.table`
WARNING = FailureSeverity.WARNING
TRAILING_DAYS = 7  # the newest complete day is compared with up to this many days before it
MIN_TRAILING_DAYS = 3  # fewer days before it: nothing to compare with, the drift row is empty


def _unchanged(df: DataFrame, relations: Relations) -> DataFrame:
    return df


def _no_parameters(spark: SparkSession, relations: Relations) -> Parameters:
    return {}


@dataclass(frozen=True)
class TableSuite:
    """Expectations on one table (`node`: a model name or `source:<source>.<table>`).

    `expectations` builds fresh GX objects per run (GX binds them to one context); `prepare`
    derives the frame GX validates (helper flags, or a profile of the table by day); `parameters`
    computes run-time bounds, typically row counts of upstream tables.
    """

    node: str
    concern: str  # bronze contract, drift or reconciliation
    expectations: Callable[[], list[Expectation]]
    prepare: Callable[[DataFrame, Relations], DataFrame] = field(default=_unchanged)
    parameters: Callable[[SparkSession, Relations], Parameters] = field(default=_no_parameters)

    @property
    def name(self) -> str:
        return f"{self.concern}__{self.node}".replace(" ", "_").replace(":", "_").replace(".", "__")


# --- building blocks ---------------------------------------------------------------------------


def as_flag(df: DataFrame, name: str, condition: Any) -> DataFrame:
    """Add a 0/1 column whose mean is the share of rows meeting `condition` (nulls count as 0)."""
    return df.withColumn(name, sf.coalesce(condition.cast("int"), sf.lit(0)))


def _count(spark: SparkSession, sql: str) -> int:
    return int(spark.sql(sql).first()[0])  # type: ignore[index]


def _exactly(prefix: str, value: int) -> Parameters:
    return {f"{prefix}_min": value, f"{prefix}_max": value}


def _row_count(prefix: str) -> Expectation:
    """Row count within `<prefix>_min`..`<prefix>_max`, computed from upstream at run time."""
    return gxe.ExpectTableRowCountToBeBetween(
        min_value={"$PARAMETER": f"{prefix}_min"}, max_value={"$PARAMETER": f"{prefix}_max"}
    )


def daily_drift(df: DataFrame, date_column: str, measures: Mapping[str, Any]) -> DataFrame:
    """One row: each measure on the newest complete day (the day before the newest date, which
    may still be filling up) divided by, for shares minus, its mean over the days before it.
    Ratios are named `<measure>_ratio`, differences `<measure>_shift`. No row when fewer than
    MIN_TRAILING_DAYS days precede it: then there is nothing to compare with."""
    daily = df.groupBy(date_column).agg(*(expr.alias(name) for name, expr in measures.items()))
    ordered = Window.orderBy(date_column)
    trailing = ordered.rowsBetween(-TRAILING_DAYS, -1)
    with_trailing = daily.select(
        "*",
        sf.count(sf.lit(1)).over(trailing).alias("_trailing_days"),
        sf.row_number().over(Window.orderBy(sf.desc(date_column))).alias("_newest_first"),
        *(sf.avg(name).over(trailing).alias(f"_trailing_{name}") for name in measures),
    )
    compared = []
    for name in measures:
        current, before = sf.col(name), sf.col(f"_trailing_{name}")
        if name.endswith("_share"):
            compared.append((current - before).alias(f"{name}_shift"))
        else:
            compared.append((current / sf.nullif(before, sf.lit(0))).alias(f"{name}_ratio"))
    return with_trailing.where(
        (sf.col("_newest_first") == 2) & (sf.col("_trailing_days") >= MIN_TRAILING_DAYS)
    ).select(date_column, "_trailing_days", *compared)


def _ratio(measure: str, low: float, high: float, **kwargs: Any) -> Expectation:
    return gxe.ExpectColumnValuesToBeBetween(
        column=f"{measure}_ratio", min_value=low, max_value=high, **kwargs
    )


def _shift(measure: str, bound: float, **kwargs: Any) -> Expectation:
    return gxe.ExpectColumnValuesToBeBetween(
        column=f"{measure}_shift", min_value=-bound, max_value=bound, **kwargs
    )


# --- bronze contract ------------------------------------------------------------------------------


def _bronze_events() -> list[Expectation]:
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="price", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=1),
        # duplicates are kept in bronze (dedupe is staging's job), but about 1% is normal
        gxe.ExpectColumnProportionOfUniqueValuesToBeBetween(
            column="event_id", min_value=0.9, max_value=1.0, severity=WARNING
        ),
        # a day whose arrivals went to quarantine in bulk: a producer broke its contract
        gxe.ExpectColumnMaxToBeBetween(column="_quarantined_share", max_value=0.05, severity=WARNING),
    ]


def _prepare_bronze_events(df: DataFrame, relations: Relations) -> DataFrame:
    """Each arrival day's share of lines quarantined, joined to the day's events."""
    quarantine = df.sparkSession.table(relations["source:ingestion.quarantine"]).where("feed = 'events'")
    rejected = quarantine.groupBy("_arrival_date").agg(sf.count(sf.lit(1)).alias("_rejected"))
    loaded = df.groupBy("_arrival_date").agg(sf.count(sf.lit(1)).alias("_loaded"))
    shares = loaded.join(rejected, "_arrival_date", "left").select(
        "_arrival_date",
        (
            sf.coalesce("_rejected", sf.lit(0)) / (sf.col("_loaded") + sf.coalesce("_rejected", sf.lit(0)))
        ).alias("_quarantined_share"),
    )
    return df.join(shares, "_arrival_date", "left")


# --- drift ------------------------------------------------------------------------------------------


def _fct_events_drift() -> list[Expectation]:
    return [
        # the day's volume: a collapse is an outage upstream, not a change of behaviour
        _ratio("events", 1 / 3, 3.0),
        _shift("anonymous_share", 0.15, severity=WARNING),
        _shift("purchase_share", 0.05, severity=WARNING),
        _shift("bot_share", 0.15, severity=WARNING),
        _ratio("mean_price_usd", 0.5, 2.0, severity=WARNING),
    ]


def _prepare_fct_events_drift(df: DataFrame, relations: Relations) -> DataFrame:
    return daily_drift(
        df,
        "event_date",
        {
            "events": sf.count(sf.lit(1)),
            "anonymous_share": sf.avg(sf.col("user_id").isNull().cast("double")),
            "purchase_share": sf.avg((sf.col("event_type") == "purchase").cast("double")),
            "bot_share": sf.avg(sf.col("is_bot").cast("double")),
            "mean_price_usd": sf.avg("price_usd"),
        },
    )


def _fct_sessions_drift() -> list[Expectation]:
    return [
        _shift("conversion_share", 0.05, severity=WARNING),
        _ratio("median_duration_seconds", 0.5, 2.0, severity=WARNING),
        _ratio("events_per_session", 0.5, 2.0, severity=WARNING),
    ]


def _prepare_fct_sessions_drift(df: DataFrame, relations: Relations) -> DataFrame:
    return daily_drift(
        df,
        "session_date",
        {
            "conversion_share": sf.avg(sf.col("has_purchase").cast("double")),
            "median_duration_seconds": sf.median("duration_seconds"),
            "events_per_session": sf.avg("event_count"),
        },
    )


# --- reconciliation across tables ----------------------------------------------------------------


def _fct_events_parameters(spark: SparkSession, relations: Relations) -> Parameters:
    # staging keeps the first copy of every event with an id and a timestamp
    bronze = relations["source:clickstream.events"]
    sql = f"select count(distinct event_id) from {bronze} where event_id is not null and event_ts is not null"
    return _exactly("staged_events", _count(spark, sql))


def _fct_sessions_parameters(spark: SparkSession, relations: Relations) -> Parameters:
    events = relations["fct_events"]
    return _exactly(
        "human_sessions", _count(spark, f"select count(distinct session_id) from {events} where not is_bot")
    )


def _fct_orders_parameters(spark: SparkSession, relations: Relations) -> Parameters:
    # a full outer join of the live CDC orders and the orders purchase events placed
    orders, events = relations["int_order_changes_applied"], relations["fct_events"]
    sql = (
        f"select count(distinct order_id) from (select order_id from {orders} union all select order_id "
        f"from {events} where event_type = 'purchase' and order_id is not null)"
    )
    return _exactly("orders", _count(spark, sql))


def _fct_daily_funnel_parameters(spark: SparkSession, relations: Relations) -> Parameters:
    sessions = relations["fct_sessions"]
    cells = _count(
        spark,
        "select count(*) from (select distinct session_date, coalesce(channel, 'unknown'),"
        f" coalesce(device_type, 'unknown') from {sessions})",
    )
    return {
        **_exactly("cells", cells),
        **_exactly("sessions", _count(spark, f"select count(*) from {sessions}")),
    }


def _fct_daily_funnel() -> list[Expectation]:
    return [
        _row_count("cells"),
        # every human session counted exactly once
        gxe.ExpectColumnSumToBeBetween(
            column="sessions",
            min_value={"$PARAMETER": "sessions_min"},
            max_value={"$PARAMETER": "sessions_max"},
        ),
    ]


def _user_features_parameters(spark: SparkSession, relations: Relations) -> Parameters:
    events = relations["fct_events"]
    sql = f"select count(distinct user_id) from {events} where not is_bot and user_id is not null"
    return _exactly("active_users", _count(spark, sql))


def _item_features_parameters(spark: SparkSession, relations: Relations) -> Parameters:
    return _exactly("products", _count(spark, f"select count(*) from {relations['dim_products']}"))


def _user_recommendations_parameters(spark: SparkSession, relations: Relations) -> Parameters:
    users = relations["dim_users"]
    return _exactly("live_users", _count(spark, f"select count(*) from {users} where not is_deleted"))


def _user_recommendations() -> list[Expectation]:
    # every live user gets recommendations
    return [
        gxe.ExpectColumnUniqueValueCountToBeBetween(
            column="user_id",
            min_value={"$PARAMETER": "live_users_min"},
            max_value={"$PARAMETER": "live_users_max"},
        )
    ]


BRONZE_CONTRACT, DRIFT, RECONCILIATION = "bronze contract", "drift", "reconciliation"

SUITES: list[TableSuite] = [
    TableSuite("source:clickstream.events", BRONZE_CONTRACT, _bronze_events, _prepare_bronze_events),
    TableSuite("fct_events", DRIFT, _fct_events_drift, _prepare_fct_events_drift),
    TableSuite("fct_sessions", DRIFT, _fct_sessions_drift, _prepare_fct_sessions_drift),
    TableSuite(
        "fct_events", RECONCILIATION, lambda: [_row_count("staged_events")], parameters=_fct_events_parameters
    ),
    TableSuite(
        "fct_sessions",
        RECONCILIATION,
        lambda: [_row_count("human_sessions")],
        parameters=_fct_sessions_parameters,
    ),
    TableSuite(
        "fct_orders", RECONCILIATION, lambda: [_row_count("orders")], parameters=_fct_orders_parameters
    ),
    TableSuite(
        "fct_daily_funnel", RECONCILIATION, _fct_daily_funnel, parameters=_fct_daily_funnel_parameters
    ),
    TableSuite(
        "user_features",
        RECONCILIATION,
        lambda: [_row_count("active_users")],
        parameters=_user_features_parameters,
    ),
    TableSuite(
        "item_features",
        RECONCILIATION,
        lambda: [_row_count("products")],
        parameters=_item_features_parameters,
    ),
    TableSuite(
        "user_recommendations",
        RECONCILIATION,
        _user_recommendations,
        parameters=_user_recommendations_parameters,
    ),
]
