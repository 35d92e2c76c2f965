"""Putting a published table back (`lakehouse restore`): restore it, then re-pin its serving view."""

from __future__ import annotations

import json

from lakehouse import dbt_runner, delta
from lakehouse.errors import LakehouseError
from lakehouse.validate.publish import VERSIONS_VAR, products


def restore_and_republish(table: str, version: int | None, target: str) -> str:
    """RESTORE `table` (delta.restore), and point its serving view at the restored version: a view
    pinned to the bad version would go on serving it. Returns what was done, in one line."""
    from lakehouse.spark import get_spark

    spark = get_spark("lakehouse-restore")
    restored = delta.restore(spark, table, version)
    manifest_path = dbt_runner.target_path() / "manifest.json"
    if not manifest_path.exists():
        dbt_runner.invoke(["parse"], target)
    serving = [p for p in products(json.loads(manifest_path.read_text())) if p.table == table]
    if not serving:
        return restored.describe()
    now = delta.table_version(spark, table)
    command = [
        "run",
        "--select",
        *(p.model for p in serving),
        "--vars",
        json.dumps({VERSIONS_VAR: {table: now}}),
    ]
    outcome = dbt_runner.invoke(command, target)
    views = ", ".join(p.view for p in serving)
    if not outcome.success:
        failures = "; ".join(outcome.failures)
        raise LakehouseError(f"{restored.describe()}; re-pinning {views} failed: {failures}")
    return f"{restored.describe()}; {views} now serves it (version {now})"
