"""Run dbt in this process, so dbt shares the pipeline's SparkSession (one JVM, one metastore lock)."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakehouse.config import project_dir
from lakehouse.errors import LakehouseError


@dataclass
class DbtOutcome:
    """What one dbt invocation did, counted by resource type and status."""

    success: bool
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

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


def invoke(command: list[str], target: str = "local") -> DbtOutcome:
    """Run one dbt command (e.g. `["build"]`) and summarise its results."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(dbt_args(command, target))
    outcome = DbtOutcome(success=result.success)
    if result.exception is not None:
        raise LakehouseError(
            f"dbt {' '.join(command)} failed: {str(result.exception).strip().splitlines()[0]}"
        )
    for node_result in getattr(result.result, "results", None) or []:
        node: Any = node_result.node
        status = str(node_result.status)
        outcome.counts[(str(node.resource_type), status)] += 1
        if status in {"fail", "error"}:
            outcome.failures.append(f"{node.resource_type} {node.name}: {status}")
    return outcome


def target_path() -> Path:
    """dbt's target directory (DBT_TARGET_PATH relocates it), where run artifacts are written."""
    return (project_dir() / os.environ.get("DBT_TARGET_PATH", "target")).resolve()
