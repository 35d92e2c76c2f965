"""Bronze table DDL: explicit schemas from the contracts, created before the first write and
evolved when a contract gains a field.

A contract version may only add optional fields (`Contract.is_additive_over`), so an existing bronze
table is brought to the latest contract by adding the new columns (`ALTER TABLE ... ADD COLUMNS`,
nested struct fields included): the rows already loaded read them as null, and no reload is
needed. A field whose type differs from the table's is not additive; ingestion stops with one line
naming the column instead of loading values into the wrong type.
"""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql.types import DataType, StructField, StructType

from lakehouse.contracts.cdc import CDC_FEEDS, bronze_cdc_schema, bronze_cdc_table
from lakehouse.contracts.events import PARTITION_COLUMNS, bronze_events_columns
from lakehouse.contracts.quarantine import QUARANTINE_COLUMNS
from lakehouse.contracts.schema import SPARK_TYPES
from lakehouse.errors import LakehouseError

DATABASE = "bronze"
EVENTS = "events"
QUARANTINE = "quarantine"
# Quarantine rows of different feeds share batch ids (one stream per feed), so the feed is part of
# the partition key that makes a replayed batch overwrite only its own rows.
QUARANTINE_PARTITIONS = ("feed", *PARTITION_COLUMNS)


def cdc_table(feed: str) -> str:
    return bronze_cdc_table(feed)


def _schema(columns: list[tuple[str, str]]) -> StructType:
    return StructType([StructField(name, SPARK_TYPES[kind]) for name, kind in columns])


def bronze_schemas(database: str = DATABASE) -> dict[str, tuple[StructType, tuple[str, ...]]]:
    """Every bronze table the contracts define: name -> (schema, partition columns)."""
    schemas = {
        f"{database}.{EVENTS}": (_schema(bronze_events_columns()), PARTITION_COLUMNS),
        f"{database}.{QUARANTINE}": (_schema(list(QUARANTINE_COLUMNS)), QUARANTINE_PARTITIONS),
    }
    for feed in CDC_FEEDS:
        schemas[f"{database}.{cdc_table(feed)}"] = (bronze_cdc_schema(feed), PARTITION_COLUMNS)
    return schemas


def create_table_sql(table: str, schema: StructType, partitions: tuple[str, ...], file_format: str) -> str:
    """CREATE TABLE IF NOT EXISTS with partition columns last, as Spark stores them."""
    ordered = [f for f in schema.fields if f.name not in partitions] + [schema[p] for p in partitions]
    body = ",\n  ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in ordered)
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (\n  {body}\n) USING {file_format}\n"
        f"PARTITIONED BY ({', '.join(f'`{p}`' for p in partitions)})"
    )


def table_ddls(file_format: str, database: str = DATABASE) -> list[str]:
    return [
        create_table_sql(table, schema, partitions, file_format)
        for table, (schema, partitions) in bronze_schemas(database).items()
    ]


def added_fields(table: str, have: StructType, want: StructType, prefix: str = "") -> list[StructField]:
    """Fields of `want` that `have` lacks, as `path`-named fields (`after.brand`), nested structs
    included; a field present in both with another type is a breaking change."""
    existing = {f.name: f.dataType for f in have.fields}
    added: list[StructField] = []
    for field in want.fields:
        path = f"{prefix}{field.name}"
        current: DataType | None = existing.get(field.name)
        if current is None:
            added.append(StructField(path, field.dataType))
        elif isinstance(current, StructType) and isinstance(field.dataType, StructType):
            added.extend(added_fields(table, current, field.dataType, f"{path}."))
        elif current != field.dataType:
            raise LakehouseError(
                f"{table}.{path}: the contract's type is {field.dataType.simpleString()} but the table "
                f"holds {current.simpleString()}; a type change is not additive (add a new field instead, "
                "or migrate the table: docs/delta.md)"
            )
    return added


def ensure_bronze(spark: SparkSession, file_format: str, database: str = DATABASE) -> dict[str, list[str]]:
    """Create the bronze tables, or add the columns a newer contract has; returns the columns added
    to each existing table (empty when nothing changed)."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    changes: dict[str, list[str]] = {}
    for table, (schema, partitions) in bronze_schemas(database).items():
        if not spark.catalog.tableExists(table):
            spark.sql(create_table_sql(table, schema, partitions, file_format))
            continue
        added = added_fields(table, spark.table(table).schema, schema)
        if added:
            columns = ", ".join(f"{quoted(f.name)} {f.dataType.simpleString()}" for f in added)
            spark.sql(f"ALTER TABLE {table} ADD COLUMNS ({columns})")
            changes[table] = [f.name for f in added]
    return changes


def quoted(path: str) -> str:
    return ".".join(f"`{part}`" for part in path.split("."))
