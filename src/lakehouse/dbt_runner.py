"""Run dbt in this process, so dbt shares the pipeline's SparkSession (one JVM, one metastore lock)."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakehouse.config import project_dir
from lakehouse.errors import LakehouseError

# what `lakehouse_schema_change_message` (macros/schema_changes/) logs when a model's table gains columns
SCHEMA_CHANGE_MARKER = "lakehouse_schema_change "
# dbt's first line of a node error names only the kind and the node ("Compilation Error in model x
# (path)"); the line after it says what happened
_ERROR_HEADINGS = ("Compilation Error in", "Runtime Error in", "Database Error in", "Error in")


@dataclass
class DbtOutcome:
    """What one dbt invocation did, counted by resource type and status."""

    success: bool
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # tests that found rows but only warn
    schema_changes: dict[str, list[str]] = field(default_factory=dict)  # table -> columns added

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
    for node_result in getattr(result.result, "results", None) or []:
        node: Any = getattr(node_result, "node", None)
        if node is None:  # a run-operation's result
            continue
        status = str(node_result.status)
        outcome.counts[(str(node.resource_type), status)] += 1
        if status == "error":
            outcome.failures.append(
                f"{node.resource_type} {node.name}: error: {error_line(node_result.message)}"
            )
        elif status == "fail":
            outcome.failures.append(f"{node.resource_type} {node.name}: fail")
        elif status == "warn":
            outcome.warnings.append(f"{node.name}: {node_result.failures} rows")
    return outcome


def target_path() -> Path:
    """dbt's target directory (DBT_TARGET_PATH relocates it), where run artifacts are written."""
    return (project_dir() / os.environ.get("DBT_TARGET_PATH", "target")).resolve()
