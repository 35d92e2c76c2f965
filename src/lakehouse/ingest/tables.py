"""Bronze table DDL: explicit schemas from the contracts, created before the first write."""

from __future__ import annotations

from pyspark.sql import SparkSession

from lakehouse.contracts.cdc import CDC_FEEDS, bronze_cdc_schema, bronze_cdc_table
from lakehouse.contracts.events import PARTITION_COLUMNS, bronze_events_columns
from lakehouse.contracts.quarantine import QUARANTINE_COLUMNS

DATABASE = "bronze"
EVENTS = "events"
QUARANTINE = "quarantine"
# Quarantine rows of different feeds share batch ids (one stream per feed), so the feed is part of
# the partition key that makes a replayed batch overwrite only its own rows.
QUARANTINE_PARTITIONS = ("feed", *PARTITION_COLUMNS)


def cdc_table(feed: str) -> str:
    return bronze_cdc_table(feed)


def create_table_sql(
    table: str, columns: list[tuple[str, str]], partitions: tuple[str, ...], file_format: str
) -> str:
    """CREATE TABLE IF NOT EXISTS with partition columns last, as Spark stores them."""
    ordered = [c for c in columns if c[0] not in partitions] + [
        c for p in partitions for c in columns if c[0] == p
    ]
    body = ",\n  ".join(f"`{name}` {kind}" for name, kind in ordered)
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (\n  {body}\n) USING {file_format}\n"
        f"PARTITIONED BY ({', '.join(f'`{p}`' for p in partitions)})"
    )


def table_ddls(file_format: str, database: str = DATABASE) -> list[str]:
    ddls = [
        create_table_sql(f"{database}.{EVENTS}", bronze_events_columns(), PARTITION_COLUMNS, file_format),
        create_table_sql(
            f"{database}.{QUARANTINE}", list(QUARANTINE_COLUMNS), QUARANTINE_PARTITIONS, file_format
        ),
    ]
    for feed in CDC_FEEDS:
        columns = [(f.name, f.dataType.simpleString()) for f in bronze_cdc_schema(feed).fields]
        ddls.append(
            create_table_sql(f"{database}.{cdc_table(feed)}", columns, PARTITION_COLUMNS, file_format)
        )
    return ddls


def ensure_bronze(spark: SparkSession, file_format: str, database: str = DATABASE) -> None:
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    for ddl in table_ddls(file_format, database):
        spark.sql(ddl)
