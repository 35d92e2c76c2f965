"""The audit trail: check results appended to `audit.check_results` with Spark.

Both Great Expectations results and dbt test results land here, one row per check per run, so
`select * from audit.check_results where run_id = ...` answers "what was checked, what failed".
Per-model dbt run records are written by the dbt on-run-end hook (macros/audit/).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Sequence

from pyspark.sql import SparkSession
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from lakehouse.checks import CheckResult

AUDIT_SCHEMA = "audit"
CHECK_RESULTS_TABLE = f"{AUDIT_SCHEMA}.check_results"

CHECK_RESULTS_COLUMNS = StructType(
    [
        StructField("run_id", StringType(), nullable=False),
        StructField("source", StringType(), nullable=False),
        StructField("object_name", StringType(), nullable=False),
        StructField("check_name", StringType(), nullable=False),
        StructField("severity", StringType(), nullable=False),
        StructField("status", StringType(), nullable=False),
        StructField("failing_rows", LongType(), nullable=True),
        StructField("detail", StringType(), nullable=True),
        StructField("checked_at", TimestampType(), nullable=False),
    ]
)


def new_run_id() -> str:
    """A sortable run id: UTC start time plus a random suffix."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def file_format() -> str:
    """The table format this run resolved (the adapter exports it before dbt parses)."""
    from lakehouse import table_format
    from lakehouse.config import Settings

    return os.environ.get(table_format.ENV_RESOLVED) or table_format.resolve(Settings.from_env()).name


def append_check_results(
    spark: SparkSession,
    run_id: str,
    results: Sequence[CheckResult],
    checked_at: dt.datetime | None = None,
) -> int:
    """Append one row per result; returns the number of rows written."""
    if not results:
        return 0
    when = (checked_at or dt.datetime.now(dt.UTC)).replace(tzinfo=None)  # session time zone is UTC
    rows = [
        (run_id, r.source, r.object, r.check, r.severity, r.status, r.failing_rows, r.detail or None, when)
        for r in results
    ]
    spark.sql(f"create database if not exists {AUDIT_SCHEMA}")
    frame = spark.createDataFrame(rows, CHECK_RESULTS_COLUMNS)
    frame.write.format(file_format()).mode("append").saveAsTable(CHECK_RESULTS_TABLE)
    return len(rows)
