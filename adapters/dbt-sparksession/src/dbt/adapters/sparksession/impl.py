"""The adapter: dbt-spark's, with the in-process `session` Python submission method as default."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from dbt.adapters.base import BaseRelation, PythonJobHelper, available
from dbt.adapters.base.column import Column
from dbt.adapters.spark.impl import SparkAdapter

from dbt.adapters.sparksession.connections import SparkSessionConnectionManager
from dbt.adapters.sparksession.python_submissions import SessionPythonJobHelper

# how the log line reporting columns added to an incremental model's table starts (see schema_change_line)
SCHEMA_CHANGE_MARKER = "sparksession_schema_change "


class SparkSessionAdapter(SparkAdapter):
    ConnectionManager = SparkSessionConnectionManager

    @available
    def schema_change_line(self, relation: BaseRelation, added_columns: list[Column]) -> str:
        """`sparksession_schema_change {"table": "schema.table", "added": ["column", ...]}`.

        Logged (info) when an incremental model adds columns to its table; a program running dbt
        collects these from dbt's events (`JinjaLogInfo` messages starting with SCHEMA_CHANGE_MARKER)."""
        table = f"{relation.schema}.{relation.identifier}"
        return SCHEMA_CHANGE_MARKER + json.dumps({"table": table, "added": [c.name for c in added_columns]})

    def _get_columns_for_catalog(self, relation: BaseRelation) -> Iterable[dict[str, Any]]:
        """dbt-spark's catalog rows, with a Delta table's size, files, rows and version.

        dbt-spark reads table statistics from the metastore (`Statistics: ... bytes, ... rows`),
        which Delta does not keep there, so the docs site showed every Delta table as 0 rows.
        Delta has them in its log: `describe detail` gives size, files and version, and
        `count(*)` is answered from the log's per-file row counts without reading data."""
        columns = list(super()._get_columns_for_catalog(relation))
        if columns and getattr(relation, "is_delta", False) and "stats:rows:value" not in columns[0]:
            stats = self.delta_table_stats(relation)
            for column in columns:
                column.update(stats)
        return columns

    def delta_table_stats(self, relation: BaseRelation) -> dict[str, Any]:
        _, detail = self.execute(f"describe detail {relation}", fetch=True)
        _, count = self.execute(f"select count(*) as row_count from {relation}", fetch=True)
        row = dict(zip(detail.column_names, detail.rows[0], strict=True)) if detail.rows else {}
        figures = {
            "bytes": ("Approximate size of the table's current data files", row.get("sizeInBytes")),
            "rows": (
                "Rows in the current version (from the Delta log)",
                count.rows[0][0] if count.rows else None,
            ),
            "files": ("Data files in the current version", row.get("numFiles")),
        }
        stats: dict[str, Any] = {}
        for key, (description, value) in figures.items():
            if value is not None:
                stats.update(
                    {
                        f"stats:{key}:label": key,
                        f"stats:{key}:value": int(value),
                        f"stats:{key}:description": description,
                        f"stats:{key}:include": True,
                    }
                )
        return stats

    @property
    def default_python_submission_method(self) -> str:
        return "session"

    @property
    def python_submission_helpers(self) -> dict[str, type[PythonJobHelper]]:
        return {**super().python_submission_helpers, "session": SessionPythonJobHelper}
