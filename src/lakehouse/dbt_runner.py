"""Run dbt in this process, so dbt shares the pipeline's SparkSession (one JVM, one metastore lock)."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbt.adapters.sparksession import SCHEMA_CHANGE_MARKER

from lakehouse.checks import CRITICAL, ERROR, FAIL, SOURCE_DBT, CheckResult
from lakehouse.config import project_dir
from lakehouse.errors import LakehouseError

# dbt's first line of a node error names only the kind and the node ("Compilation Error in model x
# (path)"); the line after it says what happened
_ERROR_HEADINGS = ("Compilation Error in", "Runtime Error in", "Database Error in", "Error in")


@dataclass
class DbtOutcome:
    """What one dbt invocation did, counted by resource type and status."""

    success: bool
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    failed: list[CheckResult] = field(default_factory=list)  # failed tests and nodes in error
    warnings: list[str] = field(default_factory=list)  # tests that found rows but only warn
    # table -> columns added, from the line the sparksession adapter logs for each incremental
    # model whose table changed (starting with SCHEMA_CHANGE_MARKER)
    schema_changes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def failures(self) -> list[str]:
        return [check.describe() for check in self.failed]

    def count(self, resource_type: str, *statuses: str) -> int:
        return sum(
            n for (kind, status), n in self.counts.items() if kind == resource_type and status in statuses
        )

    @property
    def models_built(self) -> int:
        return self.count("model", "success")

    @property
    def tests_passed(self) -> int:
        return self.count("test", "pass") + self.count("unit_test", "pass")

    @property
    def tests_failed(self) -> int:
        return self.count("test", "fail", "error") + self.count("unit_test", "fail", "error")


def dbt_args(command: list[str], target: str) -> list[str]:
    project = project_dir()
    profiles = os.environ.get("DBT_PROFILES_DIR") or str(project / "profiles")
    return [*command, "--project-dir", str(project), "--profiles-dir", profiles, "--target", target]


def error_line(message: str | None) -> str:
    """The line of a dbt node message that says what went wrong."""
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    for line in lines:
        if not line.startswith(_ERROR_HEADINGS) and not line.startswith(">"):
            return line[:300]
    return lines[0][:300] if lines else ""


def invoke(command: list[str], target: str = "local") -> DbtOutcome:
    """Run one dbt command (e.g. `["build"]`) and summarise its results."""
    from dbt.cli.main import dbtRunner

    schema_changes: dict[str, list[str]] = {}

    def collect(event: Any) -> None:
        message = getattr(event.data, "msg", "")
        if event.info.name == "JinjaLogInfo" and message.startswith(SCHEMA_CHANGE_MARKER):
            change = json.loads(message.removeprefix(SCHEMA_CHANGE_MARKER))
            schema_changes.setdefault(change["table"], []).extend(change["added"])

    result = dbtRunner(callbacks=[collect]).invoke(dbt_args(command, target))
    outcome = DbtOutcome(success=result.success, schema_changes=schema_changes)
    if result.exception is not None:
        raise LakehouseError(
            f"dbt {' '.join(command)} failed: {str(result.exception).strip().splitlines()[0]}"
        )
    failing = []
    for node_result in getattr(result.result, "results", None) or []:
        node: Any = getattr(node_result, "node", None)
        if node is None:  # a run-operation's result
            continue
        status = str(node_result.status)
        outcome.counts[(str(node.resource_type), status)] += 1
        if status in ("error", "fail"):
            failing.append(node_result)
        elif status == "warn":
            outcome.warnings.append(f"{node.name}: {node_result.failures} rows")
    if failing:  # which table each is about, from the manifest dbt just wrote
        relations = manifest_relations(target_path() / "manifest.json")
        outcome.failed = [failed_check(node_result, relations) for node_result in failing]
    return outcome


def failed_check(node_result: Any, relations: dict[str, str]) -> CheckResult:
    """A failed test (about the table it is attached to) or a node in error (about its own table)."""
    node, status = node_result.node, str(node_result.status)
    about = getattr(node, "attached_node", None) or node.unique_id
    if about == node.unique_id and node.resource_type == "test":  # a singular test: its first parent
        about = next(iter(getattr(node.depends_on, "nodes", None) or []), about)
    return CheckResult(
        source=SOURCE_DBT,
        object=relations.get(about, node.name),
        check=f"{node.resource_type} {node.name}",
        severity=CRITICAL,
        status=ERROR if status == "error" else FAIL,
        failing_rows=getattr(node_result, "failures", None) if status == "fail" else None,
        detail=error_line(node_result.message) if status == "error" else "",
    )


def manifest_relations(path: Path) -> dict[str, str]:
    """unique id -> `schema.table` of every model, seed, snapshot and source in a dbt manifest."""
    manifest = json.loads(path.read_text()) if path.exists() else {}
    nodes = {**manifest.get("nodes", {}), **manifest.get("sources", {})}
    return {uid: relation_of(node) for uid, node in nodes.items() if node.get("resource_type") != "test"}


def named_relations(path: Path) -> dict[str, str]:
    """`schema.table` by model name, and by `source:<source>.<table>` for sources."""
    manifest = json.loads(path.read_text()) if path.exists() else {}
    named = {
        node["name"]: relation_of(node)
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") in ("model", "seed", "snapshot")
    }
    for node in manifest.get("sources", {}).values():
        named[f"source:{node['source_name']}.{node['name']}"] = relation_of(node)
    return named


def relation_of(node: dict[str, Any]) -> str:
    """`schema.table` of a manifest node or source, as the run's checks name tables."""
    name = node.get("identifier") if node.get("resource_type") == "source" else node.get("alias")
    return f"{node.get('schema')}.{name or node.get('name')}"


def target_path() -> Path:
    """dbt's target directory (DBT_TARGET_PATH relocates it), where run artifacts are written."""
    return (project_dir() / os.environ.get("DBT_TARGET_PATH", "target")).resolve()
