"""`merge_delete_condition`: an incremental MERGE that deletes, updates under a condition, and
never inserts a delete; checked in the table and in its Delta history."""

from __future__ import annotations

from typing import Any

import pytest
from dbt.tests.util import relation_from_name, run_dbt

from sparksession_testing import NEEDS_DELTA

# one change per key: (id, name, version, is_deleted); the second batch arrives on the incremental run
CHANGES = """
{% if var('batch', 1) == 1 %}
select * from values
    (1, 'one', 1, false), (2, 'two', 1, false), (3, 'three', 1, false)
    as t(id, name, version, is_deleted)
{% else %}
select * from values
    (1, 'one', 2, true),        -- deletes row 1
    (2, 'two-stale', 0, false), -- older than the table's version: row 2 stays
    (3, 'three-new', 2, false), -- newer: row 3 updates
    (4, 'four', 1, true),       -- a delete of a row the table never had: not inserted
    (5, 'five', 1, false)       -- new: inserted
    as t(id, name, version, is_deleted)
{% endif %}
"""

CHANGES_APPLIED = """
{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key='id',
    merge_delete_condition='DBT_INTERNAL_SOURCE.is_deleted',
    merge_update_condition='DBT_INTERNAL_SOURCE.version >= DBT_INTERNAL_DEST.version',
) }}
select * from {{ ref('changes') }}
{% if not is_incremental() %}where not is_deleted{% endif %}
"""


@NEEDS_DELTA
class TestMergeWithDeletes:
    @pytest.fixture(scope="class")
    def models(self) -> dict[str, str]:
        return {"changes.sql": CHANGES, "changes_applied.sql": CHANGES_APPLIED}

    def test_deletes_updates_and_inserts(self, project: Any) -> None:
        run_dbt(["run"])
        run_dbt(["run", "--vars", "{batch: 2}"])
        table = relation_from_name(project.adapter, "changes_applied")
        rows = project.run_sql(f"select id, name, version from {table} order by id", fetch="all")
        assert [tuple(row) for row in rows] == [(2, "two", 1), (3, "three-new", 2), (5, "five", 1)]
        history = project.run_sql(f"describe history {table}", fetch="all")
        merge = next(row for row in history if row["operation"] == "MERGE")
        metrics = merge["operationMetrics"]
        assert (metrics["numTargetRowsDeleted"], metrics["numTargetRowsUpdated"]) == ("1", "1")
        assert metrics["numTargetRowsInserted"] == "1"
