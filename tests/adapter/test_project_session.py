"""dbt's adapter suite on the project's session: the `session_provider` hook end to end.

A few of dbt's own cases (tables, incrementals, a snapshot, Python models) run with the project's
provider, lakehouse.dbt_session: the session is the one lakehouse.spark.get_spark makes (its
warehouse under LAKEHOUSE_HOME) and the format is the one prepare() decides. Delta under `make
test`, Parquet in its Parquet pass, where the cases that need MERGE are skipped with the reason.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from dbt.tests.adapter.basic.test_base import BaseSimpleMaterializations
from dbt.tests.adapter.basic.test_incremental import BaseIncremental
from dbt.tests.adapter.basic.test_snapshot_check_cols import BaseSnapshotCheckCols
from dbt.tests.adapter.python_model.test_python_model import BasePythonIncrementalTests
from dbt.tests.util import relation_from_name, run_dbt

from tests.adapter.conftest import FORMAT, NEEDS_DELTA

pytestmark = [pytest.mark.spark]


class TestSimpleMaterializations(BaseSimpleMaterializations):
    def test_tables_are_built_by_the_projects_session_in_the_decided_format(self, project: Any) -> None:
        run_dbt(["seed"])
        run_dbt(["run"])
        for name in ("base", "table_model"):
            rows = project.run_sql(
                f"describe table extended {relation_from_name(project.adapter, name)}", fetch="all"
            )
            detail = {row[0]: row[1] for row in rows}
            assert detail.get("Provider") == FORMAT.name
            # get_spark's warehouse, not the default session's ./spark-warehouse
            assert os.environ["LAKEHOUSE_HOME"] in detail["Location"]


class TestIncremental(BaseIncremental):
    pass


@NEEDS_DELTA
class TestSnapshotCheckCols(BaseSnapshotCheckCols):
    pass


class TestPythonIncremental(BasePythonIncrementalTests):
    @pytest.fixture(scope="class")
    def project_config_update(self) -> dict[str, object]:
        # Parquet has no MERGE: the incremental Python model appends (Delta keeps dbt-spark's default)
        strategy = "merge" if FORMAT.is_delta else "append"
        return {"models": {"+incremental_strategy": strategy}}
