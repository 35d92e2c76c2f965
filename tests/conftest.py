"""One session-scoped SparkSession for the whole suite, on a throw-away LAKEHOUSE_HOME.

The environment is set before anything imports the package, whatever the developer exported: a
state directory of the suite's own (never their warehouse, never their Derby lock), the embedded
local Spark (no exported master or shared metastore), and a random PII salt (the suite checks it
is written nowhere). Only LAKEHOUSE_TABLE_FORMAT is honoured: `make test` runs a Parquet pass.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ["LAKEHOUSE_HOME"] = tempfile.mkdtemp(prefix="lakehouse-test-")
os.environ.pop("LAKEHOUSE_SPARK_MASTER", None)
os.environ.pop("LAKEHOUSE_METASTORE_URL", None)
os.environ.pop("LAKEHOUSE_RUN_ID", None)
os.environ.pop("LAKEHOUSE_FILE_FORMAT", None)
os.environ["LAKEHOUSE_PII_SALT"] = f"suite-salt-{uuid.uuid4().hex}"
os.environ.setdefault("LAKEHOUSE_TABLE_FORMAT", "auto")
os.environ.setdefault("LAKEHOUSE_DRIVER_MEMORY", "3g")

from pyspark.sql import SparkSession

from lakehouse.spark import get_spark

# dbt's functional-test fixtures (project, adapter, dbt_profile_target, ...)
pytest_plugins = ["dbt.tests.fixtures.project"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that change the shared warehouse (`mutates_warehouse`) run after all that only read it."""
    items.sort(key=lambda item: item.get_closest_marker("mutates_warehouse") is not None)


@pytest.fixture(scope="session")
def spark() -> SparkSession:
    return get_spark("lakehouse-tests")


@dataclass(frozen=True)
class BuiltProject:
    """The result of one `lakehouse-dev run` (as `make run` does it) plus `dbt docs generate`."""

    target: Path
    exit_code: int
    summary: dict[str, Any]


@pytest.fixture(scope="session")
def built_project(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> BuiltProject:
    """The whole pipeline, run once per test session and shared: it is the suite's most expensive step."""
    from lakehouse import dbt_runner
    from lakehouse_dev.sample import run_with_sample

    target = tmp_path_factory.mktemp("built_project") / "target"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_TARGET_PATH", str(target))
        patch.setenv("DBT_LOG_PATH", str(target.parent / "logs"))
        exit_code = run_with_sample(target="ci")
        docs = dbt_runner.invoke(["docs", "generate", "--static", "--selector", "everything"], "ci")
    assert docs.success, "dbt docs generate failed"
    summary = json.loads((target / "run_summary.json").read_text())
    return BuiltProject(target=target, exit_code=exit_code, summary=summary)


@pytest.fixture
def pipeline_target(tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch) -> str:
    """A private dbt target dir for tests that run the project's pipeline (keeps `target/` untouched)."""
    path = os.path.join(str(tmp_path), "target")
    monkeypatch.setenv("DBT_TARGET_PATH", path)
    monkeypatch.setenv("DBT_LOG_PATH", os.path.join(str(tmp_path), "logs"))
    return path


@pytest.fixture(scope="class")
def dbt_profile_target() -> dict[str, object]:
    """Profile of the tests that run dbt on a throw-away project: the project's session, in-process."""
    return {
        "type": "sparksession",
        "method": "session",
        "session_provider": "lakehouse.dbt_session",
        "schema": "analytics",
        "threads": 1,
    }
