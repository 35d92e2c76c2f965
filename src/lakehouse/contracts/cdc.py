"""Debezium change-data-capture contracts for users, products and orders.

A record is Debezium's envelope (PostgreSQL connector, JSON converter without schemas):
{"before", "after", "source": {"lsn", "ts_ms", "snapshot", "table", "txId", ...}, "op", "ts_ms"},
op `r` (snapshot read), `c`, `u` or `d`, timestamps as ISO-8601 strings, a tombstone (null value)
after each delete. Bronze keeps op, the source's lsn and ts_ms (commit time), the typed before/after
payloads and, as JSON in `_extra_fields`, payload fields the contract does not know yet: a column
added to the source table (PostgreSQL sends no DDL event, the field just appears) is kept, not lost.
`source.lsn` is not unique: every snapshot row carries the snapshot's LSN.
"""

from __future__ import annotations

from pyspark.sql.types import LongType, StringType, StructField, StructType

from lakehouse.contracts.events import EXTRA_FIELDS_COLUMN, INGEST_COLUMNS
from lakehouse.contracts.schema import SPARK_TYPES, Contract, Field

ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")

CDC_OPS = ("c", "u", "d", "r")  # create, update, delete, snapshot read

USERS_V1 = Contract(
    "users",
    1,
    (
        Field("user_id", "string", required=True),
        Field("email", "string"),
        Field("full_name", "string"),
        Field("country_code", "string"),
        Field("signup_at", "timestamp"),
        Field("marketing_opt_in", "boolean"),
        Field("updated_at", "timestamp"),
    ),
)
PRODUCTS_V1 = Contract(
    "products",
    1,
    (
        Field("product_id", "string", required=True),
        Field("product_name", "string"),
        Field("category_id", "string"),
        Field("brand", "string"),
        Field("price", "double", description="List price in `currency`"),
        Field("currency", "string"),
        Field("is_active", "boolean"),
        Field("updated_at", "timestamp"),
    ),
)
ORDERS_V1 = Contract(
    "orders",
    1,
    (
        Field("order_id", "string", required=True),
        Field("user_id", "string"),
        Field(
            "order_status",
            "string",
            allowed=ORDER_STATUSES,
        ),
        Field("order_total", "double", description="Sum of quantity * price of its purchase events"),
        Field("currency", "string"),
        Field("item_count", "int"),
        Field("created_at", "timestamp"),
        Field("updated_at", "timestamp"),
    ),
)

CDC_CONTRACTS: dict[str, Contract] = {"users": USERS_V1, "products": PRODUCTS_V1, "orders": ORDERS_V1}
CDC_FEEDS = tuple(CDC_CONTRACTS)


def primary_key(feed: str) -> str:
    return CDC_CONTRACTS[feed].required[0]


def bronze_cdc_table(feed: str) -> str:
    return f"cdc_{feed}"


def bronze_cdc_schema(feed: str) -> StructType:
    """`bronze.cdc_<feed>` columns, in table order."""
    payload = CDC_CONTRACTS[feed].spark_schema()
    fields = [
        StructField("op", StringType()),
        StructField("lsn", LongType()),
        StructField("ts_ms", LongType()),
        StructField("before", payload),
        StructField("after", payload),
        StructField(EXTRA_FIELDS_COLUMN, StringType()),
    ]
    fields += [StructField(name, SPARK_TYPES[kind]) for name, kind in INGEST_COLUMNS]
    return StructType(fields)
