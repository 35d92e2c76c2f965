"""This suite tests the installed wheel, in an environment without the lakehouse project.

Run it as `make test-adapter` does: a virtualenv holding only the built wheel and its test extra.
In the project's own environment (editable install, `lakehouse` importable) these tests fail on
purpose: they are the proof that the adapter stands alone.
"""

from __future__ import annotations

import ast
import importlib.util
import json
from importlib.metadata import distribution
from pathlib import Path

import dbt.adapters.sparksession
import dbt.include.sparksession


def test_the_lakehouse_project_is_not_installed() -> None:
    assert importlib.util.find_spec("lakehouse") is None


def test_the_adapter_is_the_installed_wheel_not_the_source_tree() -> None:
    direct_url = json.loads(distribution("dbt-sparksession").read_text("direct_url.json") or "{}")
    assert direct_url.get("url", "").endswith(".whl"), direct_url
    assert "site-packages" in Path(dbt.adapters.sparksession.__file__).parts
    assert "site-packages" in Path(dbt.include.sparksession.PACKAGE_PATH).parts


def test_no_module_of_the_adapter_imports_lakehouse() -> None:
    package = Path(dbt.adapters.sparksession.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(name.split(".")[0] == "lakehouse" for name in names), (path.name, names)


def test_the_wheel_ships_the_adapters_macros() -> None:
    macros = Path(dbt.include.sparksession.PACKAGE_PATH) / "macros"
    names = {path.name for path in macros.rglob("*.sql")}
    assert {"merge.sql", "on_schema_change.sql"} <= names
