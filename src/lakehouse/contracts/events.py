"""Clickstream event contract, versions 1 and 2, and the `bronze.events` table layout.

v2 adds the optional `app_version` field, which appears part-way through the data (schema drift).
Fields outside the contract are kept as JSON in `_extra_fields` (additive drift is not dropped).
"""

from __future__ import annotations

from lakehouse.contracts.schema import Contract, Field

EVENT_TYPES = (
    "page_view",
    "product_view",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "begin_checkout",
    "purchase",
)
DEVICE_TYPES = ("desktop", "mobile", "tablet")
CHANNELS = ("direct", "organic_search", "paid_search", "social", "email", "referral")

_V1_FIELDS = (
    Field("event_id", "string", required=True, description="Client-generated id; retries repeat it"),
    Field("event_type", "string", required=True, allowed=EVENT_TYPES, description="What happened"),
    Field("event_ts", "timestamp", required=True, description="Client clock, UTC; may be late"),
    Field("user_id", "string", description="Logged-in user, null for anonymous traffic"),
    Field("anonymous_id", "string", required=True, description="Cookie / device id"),
    Field("device_type", "string", allowed=DEVICE_TYPES),
    Field("os", "string"),
    Field("user_agent", "string"),
    Field("ip_address", "string"),
    Field("country_code", "string", description="ISO 3166-1 alpha-2"),
    Field("channel", "string", allowed=CHANNELS),
    Field("referrer", "string"),
    Field("campaign", "string"),
    Field("page_url", "string"),
    Field("product_id", "string", description="Set on product_view, cart, checkout and purchase events"),
    Field("search_query", "string", description="Set on search events"),
    Field("quantity", "int", description="Cart and purchase events; sometimes sent as a JSON string"),
    Field("price", "double", description="Unit price in `currency`; sometimes sent as a JSON string"),
    Field("currency", "string", description="ISO 4217"),
    Field("order_id", "string", description="Set on purchase events; matches the orders CDC feed"),
)

EVENTS_V1 = Contract("events", 1, _V1_FIELDS)
EVENTS_V2 = Contract(
    "events",
    2,
    (*_V1_FIELDS, Field("app_version", "string", description="Tracker version; new in v2, null before")),
)
EVENT_CONTRACTS = {1: EVENTS_V1, 2: EVENTS_V2}
LATEST_EVENTS = EVENTS_V2

# Fields the generator may send as JSON strings (e.g. "2" instead of 2); ingestion casts them.
STRING_TOLERANT_FIELDS = ("quantity", "price")

# Columns ingestion adds after the contract fields, in table order.
EXTRA_FIELDS_COLUMN = "_extra_fields"
INGEST_COLUMNS = (
    ("_ingested_at", "timestamp"),
    ("_source_file", "string"),  # the landing file, or `kafka:<topic>/<partition>`
    ("_source_offset", "long"),  # the record's Kafka offset (null for a landed file)
    ("_batch_id", "long"),
    ("_arrival_date", "date"),
)
# Bronze tables are partitioned by batch, then arrival day: re-running a micro-batch overwrites
# exactly its own partitions, which makes Parquet writes idempotent on the batch id.
PARTITION_COLUMNS = ("_batch_id", "_arrival_date")


def bronze_events_columns() -> list[tuple[str, str]]:
    """(name, type) of every `bronze.events` column, in table order."""
    return [
        *((f.name, f.type) for f in LATEST_EVENTS.fields),
        (EXTRA_FIELDS_COLUMN, "string"),
        *INGEST_COLUMNS,
    ]
