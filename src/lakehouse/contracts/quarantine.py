"""`bronze.quarantine`: landed lines that broke a contract, kept verbatim with the reason (and
Debezium's tombstones, which carry no change)."""

from __future__ import annotations

FEEDS = ("events", "users", "products", "orders")

# Reasons, in the order they are checked (the first that applies is recorded).
INVALID_UTF8 = "invalid_utf8"
MALFORMED_JSON = "malformed_json"
MISSING_REQUIRED_FIELD = "missing_required_field"
WRONG_TYPE = "wrong_type"
INVALID_VALUE = "invalid_value"
# Not broken, but not a change either: the null-valued record Debezium writes after each delete
# so that a compacted topic can drop the key. Kept here so produced = bronze + quarantined holds.
TOMBSTONE = "tombstone"
REASONS = (TOMBSTONE, INVALID_UTF8, MALFORMED_JSON, MISSING_REQUIRED_FIELD, WRONG_TYPE, INVALID_VALUE)

QUARANTINE_COLUMNS = (
    ("feed", "string"),
    ("raw_line", "string"),
    ("reason", "string"),  # `<reason>` or `<reason>:<field>`, e.g. `wrong_type:quantity`
    ("_source_file", "string"),
    ("_ingested_at", "timestamp"),
    ("_source_offset", "long"),
    ("_batch_id", "long"),
    ("_arrival_date", "date"),
)
