"""`lakehouse run`: the steps in order in one process and one SparkSession, then one summary.

Each step's result lands in the typed context; `summary()` turns the context into
`run_summary.json` (written after every step, so a failed run still says how far it got). The run
exits 1 when any check failed: bad data withholds what it touches and is named in the summary.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lakehouse import dbt_runner, table_format
from lakehouse.checks import CRITICAL, count
from lakehouse.config import Settings
from lakehouse.errors import LakehouseError
from lakehouse.recommend.run_step import quality_line
from lakehouse.run.context import RunContext
from lakehouse.run.steps import STEPS, Step
from lakehouse.validate import audit


def run(
    target: str = "local",
    steps: list[tuple[str, Step]] | None = None,
    dbt_selection: list[str] | None = None,
) -> int:
    """Run the pipeline; returns the process exit code (0 when every check passed)."""
    settings = Settings.from_env()
    ctx = RunContext(
        target=target, settings=settings, run_id=audit.new_run_id(), dbt_selection=dbt_selection or []
    )
    with environment(LAKEHOUSE_RUN_ID=ctx.run_id):  # dbt's on-run-end hook audits under the same id
        return run_steps(ctx, steps if steps is not None else STEPS)


def run_steps(ctx: RunContext, steps: list[tuple[str, Step]]) -> int:
    from lakehouse.spark import executor_count, get_spark

    started = time.monotonic()
    spark = get_spark("lakehouse-run")
    seconds: dict[str, float] = {}
    about: dict[str, Any] = {
        "target": ctx.target,
        "table_format": table_format.resolve(ctx.settings).name,
        "table_format_reason": table_format.resolve(ctx.settings).reason,
        "spark_version": spark.version,
        "spark_master": spark.sparkContext.master,
        "application_id": spark.sparkContext.applicationId,
        "step_seconds": seconds,
    }
    for number, (name, step) in enumerate(steps, start=1):
        print(f"[{number}/{len(steps)}] {name}", flush=True)
        step_started = time.monotonic()
        try:
            step(ctx)
        except LakehouseError:
            about["failed_step"] = name
            raise
        finally:
            seconds[name] = round(time.monotonic() - step_started, 2)
            about["wall_seconds"] = round(time.monotonic() - started, 2)
            write_summary(summary(ctx, about))
    about["executors"] = executor_count(spark)  # at the end: executors register asynchronously
    final = summary(ctx, about)
    path = write_summary(final)
    print_summary(final, path)
    return 1 if final["failed_checks"] else 0


def summary(ctx: RunContext, about: dict[str, Any]) -> dict[str, Any]:
    """`run_summary.json`: what the run was, then each step's figures, then what failed."""
    out: dict[str, Any] = {**about, "run_id": ctx.run_id, **ctx.extra_figures}
    changes: dict[str, list[str]] = {}
    if ctx.ingest is not None:
        out.update(ctx.ingest.summary())
        changes.update(ctx.ingest.schema_changes)
    if ctx.dbt is not None:
        out.update(
            models_built=ctx.dbt.models_built,
            seeds_loaded=ctx.dbt.count("seed", "success"),
            tests_passed=ctx.dbt.tests_passed,
            tests_failed=ctx.dbt.tests_failed,
            tests_warned=ctx.dbt.warnings,
        )
        changes.update(ctx.dbt.schema_changes)
    out["schema_changes"] = changes
    if ctx.reco is not None:
        out.update(ctx.reco.figures)
    if ctx.gate is not None:
        expectations = ctx.gate.results
        out.update(
            expectations_passed=count(expectations, failed=False),
            expectations_failed=count(expectations, failed=True),
            expectations_failed_critical=count(expectations, failed=True, severity=CRITICAL),
            data_docs=str(ctx.gate.docs_index) if ctx.gate.docs_index else None,
            audit_rows_written=ctx.gate.audit_rows,
        )
    published = ctx.publication
    out.update(
        published=published is not None and published.complete,
        published_views=sorted(published.published) if published else [],
        withheld_views=dict(published.withheld) if published else {},
        published_versions=dict(published.versions) if published else {},
    )
    out["failed_checks"] = [failure.describe() for failure in ctx.failures()]
    return out


def write_summary(summary: dict[str, Any]) -> Path:
    path = dbt_runner.target_path() / "run_summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    return path


@contextmanager
def environment(**variables: str) -> Iterator[None]:
    """Set environment variables for a block and restore them after."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def print_summary(summary: dict[str, Any], path: Path) -> None:
    print(
        f"\nlakehouse run ({summary['target']}, {summary['table_format']}): "
        f"{summary.get('models_built', 0)} models built, {summary.get('tests_passed', 0)} tests passed, "
        f"{len(summary.get('tests_warned', []))} warned, {summary.get('tests_failed', 0)} failed "
        f"in {summary['wall_seconds']:.0f}s"
    )
    master = str(summary.get("spark_master"))
    workers = (
        "tasks run in the driver" if master.startswith("local") else f"{summary.get('executors')} executors"
    )
    print(f"spark: application {summary.get('application_id')} on {master}, {workers}")
    if "events_landed" in summary:
        print(
            f"data: {summary['events_landed']:,} events landed = {summary.get('events_bronze', 0):,} bronze "
            f"+ {summary.get('events_quarantined', 0):,} quarantined"
        )
    if summary.get("schema_changes"):
        added = "; ".join(f"{table} +{', +'.join(cols)}" for table, cols in summary["schema_changes"].items())
        print(f"schema changes (columns added): {added}")
    if "reco_hit_rate_at_10" in summary:
        print(quality_line(summary))
    if "expectations_passed" in summary:
        print(
            f"expectations: {summary['expectations_passed']} passed, {summary['expectations_failed']} "
            f"failed ({summary.get('expectations_failed_critical', 0)} critical); "
            f"data docs: {summary.get('data_docs')}"
        )
    withheld = summary.get("withheld_views", {})
    print(
        f"published: {len(summary.get('published_views', []))} serving views"
        + (f", {len(withheld)} withheld" if withheld else "")
    )
    for view, reason in withheld.items():
        print(f"  WITHHELD {view}: {reason}")
    for warned in summary.get("tests_warned", []):
        print(f"  WARNED test {warned}")
    for check in summary.get("failed_checks", []):
        print(f"  FAILED {check}")
    print(f"summary: {path}")
