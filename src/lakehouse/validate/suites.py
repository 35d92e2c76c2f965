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

Parameters = dict[str, Any]
WARNING = FailureSeverity.WARNING

EVENT_TYPES = [
    "page_view",
    "product_view",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "begin_checkout",
    "purchase",
]
DEVICE_TYPES = ["desktop", "mobile", "tablet"]
CHANNELS = ["direct", "organic_search", "paid_search", "social", "email", "referral"]
ORDER_STATUSES = ["placed", "paid", "shipped", "delivered", "cancelled", "returned"]


def _unchanged(df: DataFrame) -> DataFrame:
    return df


def _no_parameters(spark: SparkSession) -> Parameters:
    return {}


@dataclass(frozen=True)
class TableSuite:
    """Expectations on one table.

    `expectations` builds fresh GX objects per run (GX binds them to one context);
    `prepare` derives helper columns (e.g. a 0/1 flag whose mean is a rate);
    `parameters` computes run-time bounds, typically row counts of upstream tables.
    """

    table: str
    expectations: Callable[[], list[Expectation]]
    prepare: Callable[[DataFrame], DataFrame] = field(default=_unchanged)
    parameters: Callable[[SparkSession], Parameters] = field(default=_no_parameters)

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
        gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=EVENT_TYPES),
        gxe.ExpectColumnValuesToBeInSet(column="device_type", value_set=DEVICE_TYPES),
        gxe.ExpectColumnValuesToBeInSet(column="channel", value_set=CHANNELS),
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


SUITES: list[TableSuite] = [
    TableSuite("bronze.events", _bronze_events, prepare=_prepare_bronze_events),
]
