"""dbt's own adapter test suite (dbt-tests-adapter) against the `sparksession` adapter.

Every case runs in this process on the SparkSession the adapter's default provider starts, in this
run's table format (SPARKSESSION_TEST_FORMAT). Snapshots need Delta (dbt-spark MERGEs into the
snapshot table): on Parquet they are skipped with the reason.
"""

from __future__ import annotations

from typing import Any

from dbt.tests.adapter.basic.test_adapter_methods import BaseAdapterMethod
from dbt.tests.adapter.basic.test_base import BaseSimpleMaterializations
from dbt.tests.adapter.basic.test_empty import BaseEmpty
from dbt.tests.adapter.basic.test_ephemeral import BaseEphemeral
from dbt.tests.adapter.basic.test_generic_tests import BaseGenericTests
from dbt.tests.adapter.basic.test_incremental import BaseIncremental
from dbt.tests.adapter.basic.test_singular_tests import BaseSingularTests
from dbt.tests.adapter.basic.test_singular_tests_ephemeral import BaseSingularTestsEphemeral
from dbt.tests.adapter.basic.test_snapshot_check_cols import BaseSnapshotCheckCols
from dbt.tests.adapter.basic.test_snapshot_timestamp import BaseSnapshotTimestamp
from dbt.tests.adapter.basic.test_validate_connection import BaseValidateConnection
from dbt.tests.util import relation_from_name, run_dbt

from sparksession_testing import FORMAT, NEEDS_DELTA


class TestSimpleMaterializations(BaseSimpleMaterializations):
    def test_tables_are_built_in_the_resolved_format(self, project: Any) -> None:
        run_dbt(["seed"])
        run_dbt(["run"])
        for name in ("base", "table_model"):
            rows = project.run_sql(
                f"describe table extended {relation_from_name(project.adapter, name)}", fetch="all"
            )
            assert {row[0]: row[1] for row in rows}.get("Provider") == FORMAT


class TestSingularTests(BaseSingularTests):
    pass


class TestSingularTestsEphemeral(BaseSingularTestsEphemeral):
    pass


class TestEmpty(BaseEmpty):
    pass


class TestEphemeral(BaseEphemeral):
    pass


class TestIncremental(BaseIncremental):
    pass


class TestGenericTests(BaseGenericTests):
    pass


class TestAdapterMethod(BaseAdapterMethod):
    pass


class TestValidateConnection(BaseValidateConnection):
    pass


@NEEDS_DELTA
class TestSnapshotCheckCols(BaseSnapshotCheckCols):
    pass


@NEEDS_DELTA
class TestSnapshotTimestamp(BaseSnapshotTimestamp):
    pass
