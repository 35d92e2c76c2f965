"""The expectation suites of the quality gate, as code (reviewed and versioned like the models).

One `TableSuite` per validated table. Severity: `critical` (the default) fails the run and blocks
publishing; `warning` is reported and audited but does not fail. Plausibility bands (conversion
rate, session length, bot share) are warnings: they flag drift in the data, not broken code.
Row counts against upstream are critical reconciliations, with bounds computed by Spark at run
time and passed to GX as suite parameters (`{"$PARAMETER": name}`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.metadata_types import FailureSeverity
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

from lakehouse.contracts.cdc import ORDER_STATUSES
from lakehouse.contracts.events import CHANNELS, DEVICE_TYPES, EVENT_TYPES

Parameters = dict[str, Any]
WARNING = FailureSeverity.WARNING


def _unchanged(df: DataFrame) -> DataFrame:
    return df


def _no_parameters(spark: SparkSession) -> Parameters:
    return {}


@dataclass(frozen=True)
class TableSuite:
    """Expectations on one table.

    `expectations` builds fresh GX objects per run (GX binds them to one context);
    `prepare` derives helper columns (e.g. a 0/1 flag whose mean is a rate);
    `parameters` computes run-time bounds, typically row counts of upstream tables;
    `publish`: the table gets a `serving` view once the gate passes (not for raw bronze).
    """

    table: str
    expectations: Callable[[], list[Expectation]]
    prepare: Callable[[DataFrame], DataFrame] = field(default=_unchanged)
    parameters: Callable[[SparkSession], Parameters] = field(default=_no_parameters)
    publish: bool = True

    @property
    def name(self) -> str:
        return self.table.replace(".", "__")


# --- building blocks ---------------------------------------------------------------------------


def has_columns(*columns: str) -> Expectation:
    """Schema: every contracted column is present (extra columns are allowed)."""
    return gxe.ExpectTableColumnsToMatchSet(column_set=list(columns), exact_match=False)


def primary_key(*columns: str) -> list[Expectation]:
    """The grain: not null and unique."""
    checks: list[Expectation] = [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in columns]
    if len(columns) == 1:
        checks.append(gxe.ExpectColumnValuesToBeUnique(column=columns[0]))
    else:
        checks.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns)))
    return checks


def not_null(*columns: str) -> list[Expectation]:
    return [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in columns]


def row_count_between_parameters(prefix: str) -> Expectation:
    """Row count within `<prefix>_min`..`<prefix>_max`, computed from upstream at run time."""
    return gxe.ExpectTableRowCountToBeBetween(
        min_value={"$PARAMETER": f"{prefix}_min"}, max_value={"$PARAMETER": f"{prefix}_max"}
    )


def as_flag(df: DataFrame, name: str, condition: Any) -> DataFrame:
    """Add a 0/1 column whose mean is the share of rows meeting `condition` (nulls count as 0)."""
    return df.withColumn(name, sf.coalesce(condition.cast("int"), sf.lit(0)))


# --- bronze -------------------------------------------------------------------------------------

BRONZE_EVENT_COLUMNS = (
    "event_id",
    "event_type",
    "event_ts",
    "user_id",
    "anonymous_id",
    "device_type",
    "os",
    "user_agent",
    "ip_address",
    "country_code",
    "channel",
    "referrer",
    "campaign",
    "page_url",
    "product_id",
    "search_query",
    "quantity",
    "price",
    "currency",
    "order_id",
    "app_version",
    "_extra_fields",
    "_ingested_at",
    "_source_file",
    "_batch_id",
    "_arrival_date",
)


def _bronze_events() -> list[Expectation]:
    return [
        has_columns(*BRONZE_EVENT_COLUMNS),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        *not_null("event_id", "event_type", "event_ts", "_ingested_at", "_source_file", "_batch_id"),
        gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=list(EVENT_TYPES)),
        gxe.ExpectColumnValuesToBeInSet(column="device_type", value_set=list(DEVICE_TYPES)),
        gxe.ExpectColumnValuesToBeInSet(column="channel", value_set=list(CHANNELS)),
        gxe.ExpectColumnValuesToBeBetween(column="price", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=1),
        # every event has an identity: a known user or an anonymous cookie
        gxe.ExpectColumnValuesToBeInSet(column="_has_identity", value_set=[1], severity=WARNING),
        # duplicates are kept in bronze (dedupe is staging's job), but about 1% is normal
        gxe.ExpectColumnProportionOfUniqueValuesToBeBetween(
            column="event_id", min_value=0.9, max_value=1.0, severity=WARNING
        ),
        gxe.ExpectColumnMostCommonValueToBeInSet(
            column="event_type", value_set=["page_view", "product_view"], severity=WARNING
        ),
        gxe.ExpectColumnMeanToBeBetween(
            column="_is_purchase", min_value=0.001, max_value=0.2, severity=WARNING
        ),
    ]


def _prepare_bronze_events(df: DataFrame) -> DataFrame:
    df = as_flag(df, "_has_identity", sf.col("user_id").isNotNull() | sf.col("anonymous_id").isNotNull())
    return as_flag(df, "_is_purchase", sf.col("event_type") == "purchase")


# --- marts --------------------------------------------------------------------------------------


def _count(spark: SparkSession, sql: str) -> int:
    return int(spark.sql(sql).first()[0])  # type: ignore[index]


def _exactly(prefix: str, value: int) -> Parameters:
    return {f"{prefix}_min": value, f"{prefix}_max": value}


def _fct_events_parameters(spark: SparkSession) -> Parameters:
    # staging keeps the first copy of every event with an id and a timestamp
    deduped = _count(
        spark,
        "select count(distinct event_id) from bronze.events"
        " where event_id is not null and event_ts is not null",
    )
    return _exactly("bronze_events", deduped)


def _fct_events() -> list[Expectation]:
    return [
        has_columns(
            "event_id",
            "event_ts",
            "event_date",
            "user_id",
            "session_id",
            "event_type",
            "product_id",
            "category_id",
            "quantity",
            "price_usd",
            "revenue_usd",
            "device_type",
            "channel",
            "country_code",
            "is_bot",
        ),
        row_count_between_parameters("bronze_events"),
        *primary_key("event_id"),
        *not_null("event_ts", "event_date", "session_id", "visitor_id", "is_bot", "revenue_usd"),
        gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=list(EVENT_TYPES)),
        gxe.ExpectColumnValuesToBeBetween(column="revenue_usd", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="price_usd", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="event_number_in_session", min_value=1),
        # revenue only on purchases (the flag is 1 for rows breaking the rule)
        gxe.ExpectColumnValuesToBeInSet(column="_revenue_off_purchase", value_set=[0]),
        gxe.ExpectColumnValuesToBeInSet(
            column="device_type", value_set=list(DEVICE_TYPES), mostly=0.99, severity=WARNING
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="channel", value_set=list(CHANNELS), mostly=0.99, severity=WARNING
        ),
        # a few heavy bots are expected, but they should not dominate the traffic
        gxe.ExpectColumnMeanToBeBetween(column="_is_bot", min_value=0.0, max_value=0.5, severity=WARNING),
        gxe.ExpectColumnMeanToBeBetween(
            column="_is_purchase", min_value=0.001, max_value=0.2, severity=WARNING
        ),
    ]


def _prepare_fct_events(df: DataFrame) -> DataFrame:
    df = as_flag(df, "_is_bot", sf.col("is_bot"))
    df = as_flag(df, "_is_purchase", sf.col("event_type") == "purchase")
    return as_flag(
        df, "_revenue_off_purchase", (sf.col("event_type") != "purchase") & (sf.col("revenue_usd") != 0)
    )


def _fct_sessions_parameters(spark: SparkSession) -> Parameters:
    sessions = _count(spark, "select count(distinct session_id) from marts.fct_events where not is_bot")
    return _exactly("human_sessions", sessions)


def _fct_sessions() -> list[Expectation]:
    return [
        has_columns(
            "session_id",
            "user_id",
            "session_start",
            "session_end",
            "duration_seconds",
            "page_views",
            "products_viewed",
            "cart_adds",
            "has_purchase",
            "revenue_usd",
            "landing_page",
            "exit_page",
            "device_type",
            "channel",
            "is_bot",
        ),
        row_count_between_parameters("human_sessions"),
        *primary_key("session_id"),
        *not_null("session_start", "session_end", "duration_seconds", "has_purchase", "is_bot"),
        gxe.ExpectColumnValuesToBeInSet(column="is_bot", value_set=[False]),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="session_end", column_B="session_start", or_equal=True
        ),
        gxe.ExpectColumnValuesToBeBetween(column="duration_seconds", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="event_count", min_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="revenue_usd", min_value=0),
        # plausible behaviour of human traffic
        gxe.ExpectColumnMeanToBeBetween(
            column="_converted", min_value=0.002, max_value=0.3, severity=WARNING
        ),
        gxe.ExpectColumnMeanToBeBetween(column="event_count", min_value=1.5, max_value=50, severity=WARNING),
        gxe.ExpectColumnMedianToBeBetween(
            column="duration_seconds", min_value=0, max_value=3600, severity=WARNING
        ),
    ]


def _prepare_fct_sessions(df: DataFrame) -> DataFrame:
    return as_flag(df, "_converted", sf.col("has_purchase"))


def _fct_orders_parameters(spark: SparkSession) -> Parameters:
    # a full outer join of the live CDC orders and the orders purchase events placed
    orders = _count(
        spark,
        "select count(distinct order_id) from ("
        " select order_id from intermediate.int_order_changes_applied"
        " union all"
        " select order_id from marts.fct_events where event_type = 'purchase' and order_id is not null)",
    )
    return _exactly("orders", orders)


def _fct_orders() -> list[Expectation]:
    return [
        has_columns(
            "order_id",
            "user_id",
            "order_status",
            "order_total",
            "order_total_usd",
            "purchase_revenue_usd",
            "has_order_record",
            "has_purchase_events",
            "is_bot",
        ),
        row_count_between_parameters("orders"),
        *primary_key("order_id"),
        *not_null("purchase_revenue_usd", "has_order_record", "has_purchase_events"),
        gxe.ExpectColumnValuesToBeInSet(column="order_status", value_set=list(ORDER_STATUSES)),
        gxe.ExpectColumnValuesToBeBetween(column="order_total", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="purchase_revenue_usd", min_value=0),
        gxe.ExpectColumnValuesToBeInSet(column="_seen_somewhere", value_set=[1]),
        # most orders should be seen on both sides (CDC record and purchase events)
        gxe.ExpectColumnMeanToBeBetween(
            column="_seen_on_both_sides", min_value=0.5, max_value=1.0, severity=WARNING
        ),
    ]


def _prepare_fct_orders(df: DataFrame) -> DataFrame:
    df = as_flag(df, "_seen_somewhere", sf.col("has_order_record") | sf.col("has_purchase_events"))
    return as_flag(df, "_seen_on_both_sides", sf.col("has_order_record") & sf.col("has_purchase_events"))


def _fct_daily_funnel_parameters(spark: SparkSession) -> Parameters:
    sessions = _count(spark, "select count(*) from marts.fct_sessions")
    cells = _count(
        spark,
        "select count(*) from (select distinct session_date, coalesce(channel, 'unknown'),"
        " coalesce(device_type, 'unknown') from marts.fct_sessions)",
    )
    return {**_exactly("cells", cells), **_exactly("sessions", sessions)}


def _fct_daily_funnel() -> list[Expectation]:
    return [
        has_columns(
            "session_date",
            "channel",
            "device_type",
            "sessions",
            "sessions_with_product_view",
            "sessions_with_cart_add",
            "sessions_with_checkout",
            "sessions_with_purchase",
            "revenue_usd",
            "conversion_rate",
        ),
        row_count_between_parameters("cells"),
        *primary_key("session_date", "channel", "device_type"),
        # every human session counted exactly once
        gxe.ExpectColumnSumToBeBetween(
            column="sessions",
            min_value={"$PARAMETER": "sessions_min"},
            max_value={"$PARAMETER": "sessions_max"},
        ),
        gxe.ExpectColumnValuesToBeBetween(column="conversion_rate", min_value=0, max_value=1),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="sessions", column_B="sessions_with_product_view", or_equal=True
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="sessions_with_checkout",
            column_B="sessions_with_purchase",
            or_equal=True,
            mostly=0.95,
            severity=WARNING,
        ),
        gxe.ExpectColumnMeanToBeBetween(
            column="conversion_rate", min_value=0.002, max_value=0.3, severity=WARNING
        ),
    ]


# --- features -----------------------------------------------------------------------------------


def _user_features_parameters(spark: SparkSession) -> Parameters:
    users = _count(
        spark, "select count(distinct user_id) from marts.fct_events where not is_bot and user_id is not null"
    )
    return _exactly("active_users", users)


def _standardized(*columns: str) -> list[Expectation]:
    """A z-scored column has mean 0 (warning: a drifting scaler, not broken data)."""
    return [
        gxe.ExpectColumnMeanToBeBetween(column=c, min_value=-0.01, max_value=0.01, severity=WARNING)
        for c in columns
    ]


def _user_features() -> list[Expectation]:
    return [
        has_columns(
            "user_id",
            "days_since_last_event",
            "purchase_sessions",
            "monetary_usd",
            "sessions",
            "events_per_session",
            "share_desktop",
            "share_mobile",
            "share_tablet",
            "top_category_affinity",
        ),
        row_count_between_parameters("active_users"),
        *primary_key("user_id"),
        *not_null(
            "first_event_at", "last_event_at", "days_since_last_event", "purchase_sessions", "monetary_usd"
        ),
        gxe.ExpectColumnValuesToBeBetween(column="days_since_last_event", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="monetary_usd", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="purchase_sessions", min_value=0),
        *[
            gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1.000001)
            for c in ("share_desktop", "share_mobile", "share_tablet", "top_category_affinity")
        ],
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="last_event_at", column_B="first_event_at", or_equal=True
        ),
        *_standardized("days_since_last_event_z", "monetary_usd_z", "sessions_z"),
    ]


def _item_features_parameters(spark: SparkSession) -> Parameters:
    return _exactly("products", _count(spark, "select count(*) from marts.dim_products"))


def _item_features() -> list[Expectation]:
    return [
        has_columns(
            "product_id",
            "views",
            "carts",
            "purchases",
            "view_to_cart_rate",
            "view_to_purchase_rate",
            "popularity_trend",
            "co_view_degree",
        ),
        row_count_between_parameters("products"),
        *primary_key("product_id"),
        *not_null("views", "popularity_trend", "co_view_degree"),
        gxe.ExpectColumnValuesToBeBetween(column="views", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="co_view_degree", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="popularity_trend", min_value=0, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(
            column="view_to_purchase_rate", min_value=0, max_value=1, mostly=0.99, severity=WARNING
        ),
        # Zipf-skewed popularity: some products are far more viewed than the median one
        gxe.ExpectColumnMaxToBeBetween(column="views", min_value=1),
        *_standardized("views_z"),
    ]


def _user_recommendations_parameters(spark: SparkSession) -> Parameters:
    users = _count(spark, "select count(*) from marts.dim_users where not is_deleted")
    return _exactly("live_users", users)


def _user_recommendations() -> list[Expectation]:
    return [
        has_columns("recommendation_id", "user_id", "rank", "product_id", "score", "source"),
        *primary_key("recommendation_id"),
        *not_null("user_id", "rank", "product_id", "source"),
        # every live user gets recommendations, and never the same product twice
        gxe.ExpectColumnUniqueValueCountToBeBetween(
            column="user_id",
            min_value={"$PARAMETER": "live_users_min"},
            max_value={"$PARAMETER": "live_users_max"},
        ),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["user_id", "product_id"]),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["user_id", "rank"]),
        gxe.ExpectColumnValuesToBeBetween(column="rank", min_value=1),
        gxe.ExpectColumnValuesToBeInSet(column="source", value_set=["similar_items", "popular"]),
        # the recommender should personalise most slots, not fall back to popularity
        gxe.ExpectColumnMeanToBeBetween(
            column="_is_popular_fill", min_value=0.0, max_value=0.9, severity=WARNING
        ),
    ]


def _prepare_user_recommendations(df: DataFrame) -> DataFrame:
    return as_flag(df, "_is_popular_fill", sf.col("source") == "popular")


SUITES: list[TableSuite] = [
    TableSuite("bronze.events", _bronze_events, prepare=_prepare_bronze_events, publish=False),
    TableSuite("marts.fct_events", _fct_events, _prepare_fct_events, _fct_events_parameters),
    TableSuite("marts.fct_sessions", _fct_sessions, _prepare_fct_sessions, _fct_sessions_parameters),
    TableSuite("marts.fct_orders", _fct_orders, _prepare_fct_orders, _fct_orders_parameters),
    TableSuite("marts.fct_daily_funnel", _fct_daily_funnel, parameters=_fct_daily_funnel_parameters),
    TableSuite("features.user_features", _user_features, parameters=_user_features_parameters),
    TableSuite("features.item_features", _item_features, parameters=_item_features_parameters),
    TableSuite(
        "features.user_recommendations",
        _user_recommendations,
        _prepare_user_recommendations,
        _user_recommendations_parameters,
    ),
]
