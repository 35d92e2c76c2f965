"""Versioned data contracts for everything that lands in bronze.

`events` (v1, v2 adds `app_version`), the CDC payloads for users, products and orders, and the
quarantine layout. Ingestion parses against these, and the dbt sources describe the same columns.
"""

from __future__ import annotations

from lakehouse.contracts.cdc import CDC_CONTRACTS, CDC_FEEDS, CDC_OPS, bronze_cdc_schema, bronze_cdc_table
from lakehouse.contracts.events import (
    CHANNELS,
    DEVICE_TYPES,
    EVENT_CONTRACTS,
    EVENT_TYPES,
    EVENTS_V1,
    EVENTS_V2,
    LATEST_EVENTS,
    bronze_events_columns,
)
from lakehouse.contracts.quarantine import QUARANTINE_COLUMNS, REASONS
from lakehouse.contracts.schema import Contract, Field

__all__ = [
    "CDC_CONTRACTS",
    "CDC_FEEDS",
    "CDC_OPS",
    "CHANNELS",
    "DEVICE_TYPES",
    "EVENTS_V1",
    "EVENTS_V2",
    "EVENT_CONTRACTS",
    "EVENT_TYPES",
    "LATEST_EVENTS",
    "QUARANTINE_COLUMNS",
    "REASONS",
    "Contract",
    "Field",
    "bronze_cdc_schema",
    "bronze_cdc_table",
    "bronze_events_columns",
]
