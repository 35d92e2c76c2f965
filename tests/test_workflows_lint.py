"""Lint configuration: pre-commit hooks, `make lint`, and sqlfluff on its in-memory `lint` target."""

from __future__ import annotations

import configparser
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REQUIRED_HOOKS = {
    "trailing-whitespace",
    "end-of-file-fixer",
    "check-yaml",
    "check-merge-conflict",
    "ruff",
    "ruff-format",
    "sqlfluff-lint",
}

CLEAN_MODEL = """select
    1 as event_count,
    'click' as event_type
"""
# uppercase keywords (CP01), a leading comma (LT04), an implicit column alias (AL02)
DIRTY_MODEL = """SELECT
    1 event_count
    , 'click' AS event_type
"""


def hooks() -> list[dict[str, Any]]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def test_pre_commit_accepts_the_config() -> None:
    checked = subprocess.run(
        [str(BIN / "pre-commit"), "validate-config", ".pre-commit-config.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_hooks_cover_hygiene_python_and_sql_with_the_repos_own_tools() -> None:
    assert {hook["id"] for hook in hooks()} >= REQUIRED_HOOKS
    for hook in hooks():
        # nothing to fetch: every hook runs a program of the repo or its .venv (`make setup`)
        assert hook["language"] == "system", hook["id"]
        program = hook["entry"].split()[0]
        assert program.startswith((".venv/bin/", ".ci/")), hook["id"]
        if program.startswith(".venv/bin/"):
            assert (BIN / Path(program).name).exists(), f"{hook['id']}: {program} is not installed"
        else:
            assert (ROOT / program).stat().st_mode & 0o111, f"{hook['id']}: {program} is not executable"


def test_make_lint_runs_exactly_the_pre_commit_hooks() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "pre-commit run --all-files" in recipe


def test_sqlfluff_lints_sparksql_through_dbt_on_the_in_memory_lint_target() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / ".sqlfluff")
    assert config["sqlfluff"]["dialect"] == "sparksql"
    assert config["sqlfluff"]["templater"] == "dbt"
    target = config["sqlfluff:templater:dbt"]["target"]
    profiles = yaml.safe_load((ROOT / "profiles" / "profiles.yml").read_text())
    output = profiles["lakehouse"]["outputs"][target]
    assert output["method"] == "session"
    assert output["server_side_parameters"]["spark.sql.catalogImplementation"] == "in-memory"


@pytest.mark.slow
def test_sqlfluff_flags_style_in_a_dbt_model_without_booting_the_metastore(tmp_path: Path) -> None:
    """`.ci/sqlfluff` on a copy of the project with one clean and one dirty model."""
    project = tmp_path / "project"
    for name in ("dbt_project.yml", ".sqlfluff", ".sqlfluffignore", "profiles", "macros", "seeds", ".ci"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name)
        elif source.exists():
            project.mkdir(exist_ok=True)
            shutil.copy2(source, project / name)
    (project / ".venv").symlink_to(BIN.parent)
    (project / "models").mkdir()
    # the seeds' yml uses doc blocks kept beside the models
    for doc_blocks in (ROOT / "models").rglob("*.md"):
        shutil.copy2(doc_blocks, project / "models" / doc_blocks.name)
    (project / "models" / "clean_model.sql").write_text(CLEAN_MODEL)
    (project / "models" / "dirty_model.sql").write_text(DIRTY_MODEL)
    lint_home = tmp_path / "lint-home"

    linted = subprocess.run(
        [str(project / ".ci" / "sqlfluff"), "lint", "models", "--format", "json", "--processes", "1"],
        cwd=project,
        env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path), "LAKEHOUSE_LINT_HOME": str(lint_home)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert linted.returncode == 1, linted.stderr[-2000:]  # 1: violations found (not a templating crash)
    reports = {Path(report["filepath"]).name: report for report in json.loads(linted.stdout)}
    assert reports["clean_model.sql"]["violations"] == []
    codes = {violation["code"] for violation in reports["dirty_model.sql"]["violations"]}
    assert {"CP01", "LT04", "AL02"} <= codes
    # the dbt templater really ran (on its own state dir), with no Derby metastore behind it
    assert (lint_home / "target" / "partial_parse.msgpack").exists()
    assert not (lint_home / "metastore_db").exists()
