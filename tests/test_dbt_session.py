"""The project's session provider for the sparksession adapter (lakehouse.dbt_session)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lakehouse import dbt_session, table_format
from lakehouse.config import Settings, project_dir

BIN = Path(sys.executable).parent


def test_prepare_returns_the_format_this_process_exported(monkeypatch: pytest.MonkeyPatch) -> None:
    resolved = table_format.resolve(Settings.from_env()).name
    assert dbt_session.prepare() == {table_format.ENV_RESOLVED: resolved}
    monkeypatch.setenv(table_format.ENV_RESOLVED, "parquet")  # pinned after the decision, as tests do
    assert dbt_session.prepare() == {table_format.ENV_RESOLVED: "parquet"}


def test_the_plain_dbt_cli_builds_in_the_resolved_format(tmp_path: Path) -> None:
    """`dbt parse` in a fresh process, with nothing exported: the provider's prepare() decides the
    format when dbt reads the profile, before it renders `+file_format` in dbt_project.yml."""
    expected = table_format.resolve(Settings.from_env()).name
    env = {k: v for k, v in os.environ.items() if k != table_format.ENV_RESOLVED}
    env |= {
        "DBT_PROFILES_DIR": str(project_dir() / "profiles"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    done = subprocess.run(
        [str(BIN / "dbt"), "parse", "--quiet", "--project-dir", str(project_dir())],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    formats = {
        node["config"]["file_format"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
    }
    assert formats == {expected}
