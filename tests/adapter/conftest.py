"""dbt's adapter suite as this project runs the adapter: through its session provider.

The profile (tests/conftest.py's `dbt_profile_target`) names `session_provider: lakehouse.dbt_session`,
as profiles/profiles.yml does, and every case's `dbt_project.yml` reads the table format the way the
project's own does, `+file_format: "{{ env_var('LAKEHOUSE_FILE_FORMAT', 'parquet') }}"`: the format
reaches the models only through the provider's prepare(). The adapter's own suite, on its wheel and
without this package, is `make test-adapter` (adapters/dbt-sparksession/tests).
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
FILE_FORMAT_FROM_ENV = "{{ env_var('" + table_format.ENV_RESOLVED + "', 'parquet') }}"
FORMATTED_RESOURCES = ("models", "seeds", "snapshots")

NEEDS_DELTA = pytest.mark.skipif(
    not FORMAT.is_delta,
    reason="needs MERGE (dbt-spark snapshots, merge incrementals), which needs Delta; "
    f"this run is on {FORMAT.name}: {FORMAT.reason}",
)


@pytest.fixture(scope="class")
def dbt_project_yml(project_root: Path, project_config_update: dict[str, Any] | str | None) -> dict[str, Any]:
    """dbt's own fixture of the same name, plus the project's `+file_format` (a case's own still wins)."""
    config: dict[str, Any] = {
        "name": "test",
        "profile": "test",
        "flags": {"send_anonymous_usage_stats": False},
    }
    if isinstance(project_config_update, str):
        project_config_update = yaml.safe_load(project_config_update)
    config.update(project_config_update or {})
    for resource in FORMATTED_RESOURCES:
        config[resource] = {"+file_format": FILE_FORMAT_FROM_ENV, **(config.get(resource) or {})}
    write_file(yaml.safe_dump(config), project_root, "dbt_project.yml")
    return config
