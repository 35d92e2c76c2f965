"""Every dbt adapter suite case builds in the table format the run resolved.

dbt-spark defaults `file_format` to Parquet, and many suite classes override the
`project_config_update` fixture, so a module-level fixture cannot set it: the `dbt_project.yml`
each case writes is completed here instead (a case's own `file_format` still wins).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from dbt.tests.util import write_file

from lakehouse import table_format
from lakehouse.config import Settings

FORMAT = table_format.resolve(Settings.from_env())
FORMATTED_RESOURCES = ("models", "seeds", "snapshots")


def with_resolved_format(config: dict[str, Any]) -> dict[str, Any]:
    for resource in FORMATTED_RESOURCES:
        config[resource] = {"+file_format": FORMAT.name, **(config.get(resource) or {})}
    return config


@pytest.fixture(scope="class")
def dbt_project_yml(project_root: Path, project_config_update: dict[str, Any] | str | None) -> dict[str, Any]:
    """dbt's own fixture of the same name, plus the resolved `+file_format`."""
    config: dict[str, Any] = {
        "name": "test",
        "profile": "test",
        "flags": {"send_anonymous_usage_stats": False},
    }
    if isinstance(project_config_update, str):
        project_config_update = yaml.safe_load(project_config_update)
    config.update(project_config_update or {})
    with_resolved_format(config)
    write_file(yaml.safe_dump(config), project_root, "dbt_project.yml")
    return config
