"""dbt test results as check results, read from dbt's run artifacts in the target directory.

`run_results.json` says how each test went; `manifest.json` says which model a test is attached
to and its configured severity.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lakehouse.checks import (
    CRITICAL,
    ERROR,
    FAIL,
    PASS,
    SKIPPED,
    SOURCE_DBT,
    WARNING,
    CheckResult,
)

TEST_PREFIXES = ("test.", "unit_test.")
# dbt's "warn" is a failed test configured with severity warn
STATUSES = {"pass": PASS, "fail": FAIL, "warn": FAIL, "error": ERROR, "skipped": SKIPPED}


def read_test_results(target_dir: Path) -> list[CheckResult]:
    """Every data test and unit test of the last dbt invocation; [] when dbt has not run."""
    run_results_path = target_dir / "run_results.json"
    manifest_path = target_dir / "manifest.json"
    if not run_results_path.exists() or not manifest_path.exists():
        return []
    run_results = json.loads(run_results_path.read_text())
    manifest = json.loads(manifest_path.read_text())
    nodes: dict[str, Any] = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    results = []
    for entry in run_results.get("results", []):
        unique_id = str(entry.get("unique_id", ""))
        if unique_id.startswith(TEST_PREFIXES):
            results.append(_check_result(entry, nodes.get(unique_id, {}), nodes))
    return results


def _check_result(entry: dict[str, Any], node: dict[str, Any], nodes: dict[str, Any]) -> CheckResult:
    dbt_status = str(entry.get("status", "error"))
    severity = str((node.get("config") or {}).get("severity", "error")).lower()
    failures = entry.get("failures")
    message = "" if dbt_status == "pass" else str(entry.get("message") or "").strip()
    return CheckResult(
        source=SOURCE_DBT,
        object=_tested_object(node, nodes),
        check=str(node.get("name") or entry.get("unique_id")),
        severity=WARNING if severity == "warn" else CRITICAL,
        status=STATUSES.get(dbt_status, ERROR),
        failing_rows=int(failures) if failures is not None else None,
        detail=message.splitlines()[0][:200] if message else "",
    )


def _tested_object(node: dict[str, Any], nodes: dict[str, Any]) -> str:
    """`schema.table` of the model a test checks (its attached node, else its first dependency)."""
    if node.get("resource_type") == "unit_test":
        return str(node.get("model") or node.get("unique_id", "unknown"))
    depends_on = (node.get("depends_on") or {}).get("nodes") or []
    target_id = node.get("attached_node") or (depends_on[0] if depends_on else None)
    target = nodes.get(target_id or "", {})
    if target.get("schema") and (target.get("alias") or target.get("name")):
        return f"{target['schema']}.{target.get('alias') or target['name']}"
    return str(target_id or node.get("unique_id", "unknown"))
