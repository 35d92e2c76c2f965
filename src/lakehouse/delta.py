"""Delta Lake table versions: what each published table was, and restoring an earlier one.

Every Delta write makes a new table version and keeps the old files until VACUUM removes them, so
a table can be read, or restored, as it was at any recent version. The publish step records the
version of every table it publishes (`run_summary.json` and `audit.published_versions`); after a
publish of bad data, `lakehouse restore <table>` puts the table back to the version the previous
publish recorded, with one `RESTORE TABLE ... TO VERSION AS OF`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from lakehouse.errors import LakehouseError

PUBLISHED_VERSIONS_TABLE = "audit.published_versions"
PUBLISHED_VERSIONS_COLUMNS = StructType(
    [
        StructField("run_id", StringType(), nullable=False),
        StructField("table_name", StringType(), nullable=False),
        StructField("version", LongType(), nullable=False),
        StructField("published_at", TimestampType(), nullable=False),
    ]
)


def provider(spark: SparkSession, table: str) -> str | None:
    """The table's format (`delta`, `parquet`, ...); None for a view or a missing table."""
    try:
        rows = spark.sql(f"describe table extended {table}").collect()
    except AnalysisException:
        return None
    info = {row["col_name"]: row["data_type"] for row in rows}
    return None if info.get("Type") == "VIEW" else (info.get("Provider") or "").lower() or None


def table_version(spark: SparkSession, table: str) -> int | None:
    """The current version of a Delta table; None when `table` is not a Delta table."""
    if provider(spark, table) != "delta":
        return None
    return int(spark.sql(f"describe history {table} limit 1").first()["version"])  # type: ignore[index]


def record_published_versions(
    spark: SparkSession, run_id: str, versions: dict[str, int], file_format: str
) -> None:
    """Append the published version of each Delta table to `audit.published_versions`."""
    if not versions:
        return
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # the session time zone is UTC
    rows = [(run_id, table, version, now) for table, version in sorted(versions.items())]
    spark.sql(f"create database if not exists {PUBLISHED_VERSIONS_TABLE.split('.')[0]}")
    frame = spark.createDataFrame(rows, PUBLISHED_VERSIONS_COLUMNS)
    frame.write.format(file_format).mode("append").saveAsTable(PUBLISHED_VERSIONS_TABLE)


@dataclass(frozen=True)
class Restored:
    table: str
    from_version: int
    to_version: int
    published_by: str | None  # the run that published `to_version`, when it came from the audit

    def describe(self) -> str:
        origin = f", published by run {self.published_by}" if self.published_by else ""
        return (
            f"{self.table}: restored to version {self.to_version}{origin}; "
            f"it was at version {self.from_version}"
        )


def previous_published_version(spark: SparkSession, table: str, current: int) -> tuple[int, str]:
    """The newest version of `table` a publish recorded before `current` (and the newest run that
    published it)."""
    if not spark.catalog.tableExists(PUBLISHED_VERSIONS_TABLE):
        raise LakehouseError(
            f"no publish has been recorded yet ({PUBLISHED_VERSIONS_TABLE} does not exist); "
            f"pass --version (`describe history {table}` lists the versions)"
        )
    row = spark.sql(
        f"""
        select version, run_id from {PUBLISHED_VERSIONS_TABLE}
        where table_name = '{table}' and version < {current}
        order by version desc, published_at desc limit 1
        """
    ).first()
    if row is None:
        raise LakehouseError(
            f"{table}: no published version older than its current version {current} is recorded; "
            f"pass --version (`describe history {table}` lists the versions)"
        )
    return int(row["version"]), str(row["run_id"])


def restore(spark: SparkSession, table: str, version: int | None = None) -> Restored:
    """RESTORE `table` to `version`, by default the version the previous publish recorded.

    The previous publish is the newest recorded version older than the latest recorded one, so a
    bad publish is undone whether or not later writes happened since."""
    kind = provider(spark, table)
    if kind is None:
        raise LakehouseError(f"{table} is not a table in this warehouse")
    if kind != "delta":
        raise LakehouseError(
            f"{table} is a {kind} table: restoring an earlier version needs Delta time travel"
        )
    current = table_version(spark, table)
    assert current is not None
    published_by = None
    if version is None:
        latest_published = _latest_published_version(spark, table, current)
        version, published_by = previous_published_version(spark, table, latest_published)
    if not 0 <= version < current:
        raise LakehouseError(f"{table}: version {version} is not an earlier version (current: {current})")
    try:
        spark.sql(f"restore table {table} to version as of {version}")
    except AnalysisException as exc:  # e.g. its files were vacuumed
        raise LakehouseError(
            f"{table}: cannot restore version {version}: {str(exc).splitlines()[0]}"
        ) from exc
    return Restored(table, current, version, published_by)


def _latest_published_version(spark: SparkSession, table: str, current: int) -> int:
    """The version the latest publish recorded (the current version when none is recorded)."""
    if not spark.catalog.tableExists(PUBLISHED_VERSIONS_TABLE):
        return current
    row = spark.sql(
        f"select max(version) as version from {PUBLISHED_VERSIONS_TABLE} where table_name = '{table}'"
    ).first()
    return int(row["version"]) if row and row["version"] is not None else current
