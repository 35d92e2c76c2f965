"""dbt's functional-test fixtures, on a profile that starts Spark with the default session provider.

Every case builds in this run's table format (sparksession_testing.FORMAT). dbt-spark defaults
`file_format` to Parquet, and many suite classes override the `project_config_update` fixture, so a
module-level fixture cannot set it: the `dbt_project.yml` each case writes is completed here
instead (a case's own `file_format` still wins).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from dbt.tests.util import write_file

from sparksession_testing import FORMAT, spark_conf

os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")  # pandas-on-Spark asks for it

pytest_plugins = ["dbt.tests.fixtures.project"]
FORMATTED_RESOURCES = ("models", "seeds", "snapshots")


@pytest.fixture(scope="class")
def dbt_profile_target() -> dict[str, Any]:
    """A `method: session` target with no session provider: the adapter builds Spark from these."""
    return {
        "type": "sparksession",
        "method": "session",
        "master": "local[2]",
        "schema": "analytics",
        "threads": 1,
        "server_side_parameters": spark_conf(),
    }


def with_format(config: dict[str, Any]) -> dict[str, Any]:
    for resource in FORMATTED_RESOURCES:
        config[resource] = {"+file_format": FORMAT, **(config.get(resource) or {})}
    return config


@pytest.fixture(scope="class")
def dbt_project_yml(project_root: Path, project_config_update: dict[str, Any] | str | None) -> dict[str, Any]:
    """dbt's own fixture of the same name, plus this run's `+file_format`."""
    config: dict[str, Any] = {
        "name": "test",
        "profile": "test",
        "flags": {"send_anonymous_usage_stats": False},
    }
    if isinstance(project_config_update, str):
        project_config_update = yaml.safe_load(project_config_update)
    config.update(project_config_update or {})
    with_format(config)
    write_file(yaml.safe_dump(config), project_root, "dbt_project.yml")
    return config
