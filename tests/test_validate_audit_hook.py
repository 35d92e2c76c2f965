"""The dbt on-run-end hook `record_dbt_model_runs`, run by dbt on real Spark in a throw-away project.

The project's own audit macros are loaded from `macros/audit/`, so this tests the shipped code
without parsing the rest of the lakehouse project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dbt.tests.util import run_dbt
from pyspark.sql import SparkSession

from lakehouse import dbt_runner, table_format
from lakehouse.config import Settings, project_dir

pytestmark = pytest.mark.spark

AUDIT_MACROS = project_dir() / "macros" / "audit"
# a test that finds rows but only warns: `lakehouse run` must report it, not drop it
WARNING_TEST = """
version: 2
models:
  - name: two_rows
    columns:
      - name: id
        data_tests:
          - accepted_values:
              arguments: {values: [1]}
              config: {severity: warn}
"""


@pytest.fixture(scope="class")
def macros() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(Path(AUDIT_MACROS).glob("*.sql"))}


@pytest.fixture(scope="class")
def models() -> dict[str, str]:
    return {
        "two_rows.sql": "select 1 as id union all select 2 as id",
        "a_view.sql": "{{ config(materialized='view') }} select * from {{ ref('two_rows') }}",
        "broken.sql": "select * from a_table_that_does_not_exist",
        "schema.yml": WARNING_TEST,
    }


@pytest.fixture(scope="class")
def project_config_update(unique_schema: str) -> dict[str, object]:
    file_format = table_format.resolve(Settings.from_env()).name
    return {
        "models": {"+file_format": file_format, "+materialized": "table"},
        # the audit table goes into the test's own schema, dropped with it
        "vars": {"audit_schema": unique_schema},
        "on-run-end": ["{{ record_dbt_model_runs(results) }}"],
    }


class TestRecordDbtModelRuns:
    def test_one_row_per_model_with_status_rows_and_duration(
        self, project: object, unique_schema: str, spark: SparkSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LAKEHOUSE_RUN_ID", "hook-test-run")
        run_dbt(["run"], expect_pass=False)

        runs = {
            row["node_id"].rsplit(".", 1)[-1]: row
            for row in spark.table(f"{unique_schema}.dbt_model_runs").collect()
        }
        assert set(runs) == {"two_rows", "a_view", "broken"}
        assert {row["run_id"] for row in runs.values()} == {"hook-test-run"}

        table = runs["two_rows"]
        assert (table["status"], table["materialization"]) == ("success", "table")
        assert (table["row_count"], table["rows_affected"]) == (2, 2)
        assert table["duration_seconds"] > 0
        assert table["completed_at"] is not None

        view = runs["a_view"]
        assert (view["status"], view["row_count"], view["rows_affected"]) == ("success", None, None)

        broken = runs["broken"]
        assert broken["status"] == "error"
        assert broken["row_count"] is None
        assert "a_table_that_does_not_exist" in broken["message"].lower()

    def test_each_invocation_appends(
        self, project: object, unique_schema: str, spark: SparkSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("LAKEHOUSE_RUN_ID", raising=False)
        run_dbt(["run", "--select", "two_rows"])  # the audit table exists whatever ran before
        before = spark.table(f"{unique_schema}.dbt_model_runs").count()
        run_dbt(["run", "--select", "two_rows"])
        rows = spark.table(f"{unique_schema}.dbt_model_runs").collect()
        assert len(rows) == before + 1
        # without LAKEHOUSE_RUN_ID the run id is dbt's invocation id, shared by the invocation's rows
        newest = max(rows, key=lambda row: row["completed_at"])
        assert newest["run_id"] == newest["invocation_id"]


class TestWarnings:
    """dbt tests that warn are reported by name with their rows (run_summary.json tests_warned)."""

    @pytest.fixture(scope="class")
    def models(self) -> dict[str, str]:
        return {"two_rows.sql": "select 1 as id union all select 2 as id", "schema.yml": WARNING_TEST}

    def test_a_warning_is_reported_with_its_rows(self, project: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("LAKEHOUSE_PROJECT_DIR", str(project.project_root))
        monkeypatch.setenv("DBT_PROFILES_DIR", str(project.profiles_dir))
        outcome = dbt_runner.invoke(["build"], "default")
        assert outcome.success
        assert outcome.failures == []
        assert outcome.warnings == ["accepted_values_two_rows_id__1: 1 rows"]
        assert outcome.tests_passed == 0
