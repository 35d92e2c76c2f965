"""One session-scoped SparkSession for the whole suite, on a throw-away LAKEHOUSE_HOME.

The state directory is set before anything imports the package, so a test run never touches a
developer's warehouse or metastore and never contends for their Derby lock.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

os.environ.setdefault("LAKEHOUSE_HOME", tempfile.mkdtemp(prefix="lakehouse-test-"))
os.environ.setdefault("LAKEHOUSE_TABLE_FORMAT", "auto")
os.environ.setdefault("DBT_TARGET_PATH", os.path.join(os.environ["LAKEHOUSE_HOME"], "target"))
os.environ.setdefault("DBT_LOG_PATH", os.path.join(os.environ["LAKEHOUSE_HOME"], "logs"))
os.environ.setdefault("LAKEHOUSE_DRIVER_MEMORY", "3g")

from pyspark.sql import SparkSession  # noqa: E402

from lakehouse.spark import get_spark  # noqa: E402

# dbt's adapter test suite (fixtures: project, adapter, dbt_profile_target, ...)
pytest_plugins = ["dbt.tests.fixtures.project"]


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = get_spark("lakehouse-tests")
    yield session


@pytest.fixture(scope="class")
def dbt_profile_target() -> dict[str, object]:
    """Profile used by dbt's adapter test suite: the plugin's in-process session method."""
    return {"type": "sparksession", "method": "session", "schema": "analytics", "threads": 1}
