"""The docs catalog shows a Delta table's rows, size and files; seed values with quotes,
backslashes and empty cells load as written."""

from __future__ import annotations

from typing import Any

import pytest
from dbt.tests.util import relation_from_name, run_dbt

from sparksession_testing import NEEDS_DELTA

SEED = """id,text
1,it's
2,back\\slash
3,'quoted'
4,%s percent
5,
"""


class TestSeedsLoadAsWritten:
    @pytest.fixture(scope="class")
    def seeds(self) -> dict[str, str]:
        return {"awkward.csv": SEED}

    def test_values_round_trip(self, project: Any) -> None:
        run_dbt(["seed"])
        seed = relation_from_name(project.adapter, "awkward")
        rows = project.run_sql(f"select id, text from {seed} order by id", fetch="all")
        assert [row[1] for row in rows] == ["it's", "back\\slash", "'quoted'", "%s percent", None]


@NEEDS_DELTA
class TestDeltaCatalogStatistics:
    @pytest.fixture(scope="class")
    def models(self) -> dict[str, str]:
        return {"three_rows.sql": "{{ config(materialized='table') }} select explode(sequence(1, 3)) as id"}

    def test_catalog_has_rows_bytes_and_files(self, project: Any) -> None:
        run_dbt(["run"])
        catalog: Any = run_dbt(["docs", "generate"])
        stats = catalog.nodes["model.test.three_rows"].stats
        assert stats["rows"].value == 3
        assert stats["bytes"].value > 0
        assert stats["files"].value >= 1
