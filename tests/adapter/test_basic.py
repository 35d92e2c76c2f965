"""dbt's own adapter test suite (dbt-tests-adapter) against the `sparksession` plugin.

Every case runs in this process on the session-scoped SparkSession, on Parquet tables (the format
this machine can load). Cases that need Delta are skipped with the reason.
"""

from __future__ import annotations

import pytest
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

from lakehouse import table_format
from lakehouse.config import Settings

pytestmark = [pytest.mark.adapter, pytest.mark.spark]

FORMAT = table_format.resolve(Settings.from_env())
NEEDS_DELTA = pytest.mark.skipif(
    not FORMAT.is_delta,
    reason="dbt-spark snapshots MERGE into the snapshot table, which needs Delta (or Iceberg/Hudi); "
    f"the Delta connector is not loadable here: {FORMAT.reason}",
)


@pytest.fixture(scope="class")
def project_config_update() -> dict[str, object]:
    """Every suite builds its tables in the format this machine resolved (Delta, else Parquet)."""
    file_format = {"+file_format": FORMAT.name}
    return {"models": file_format, "seeds": file_format, "snapshots": file_format}


class TestSimpleMaterializations(BaseSimpleMaterializations):
    pass


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
