"""`lakehouse run`: the main job, every step in one process and one SparkSession.

Steps run in order (generate -> ingest -> dbt build -> recommendation quality -> validate ->
publish), each printing progress and adding its figures to `target/run_summary.json`. A step that
finds bad data appends to `failed_checks`; the run then exits 1 and `publish` refuses to run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from lakehouse import dbt_runner, table_format
from lakehouse.config import Settings
from lakehouse.errors import LakehouseError
from lakehouse.generate import cli as generate_cli
from lakehouse.ingest import cli as ingest_cli
from lakehouse.recommend.run_step import quality_line, reco_quality_step
from lakehouse.validate import audit
from lakehouse.validate.steps import publish_step, validate_step


@dataclass
class RunContext:
    target: str
    settings: Settings
    summary: dict[str, Any] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    dbt_selection: list[str] = field(default_factory=list)  # e.g. ["--select", "fct_events"]; all by default


Step = Callable[[RunContext], None]


def dbt_build_step(ctx: RunContext) -> None:
    outcome = dbt_runner.invoke(["build", *ctx.dbt_selection], ctx.target)
    ctx.summary.update(
        models_built=outcome.models_built,
        seeds_loaded=outcome.count("seed", "success"),
        tests_passed=outcome.tests_passed,
        tests_failed=outcome.tests_failed,
        tests_warned=outcome.warnings,
    )
    ctx.summary.setdefault("schema_changes", {}).update(outcome.schema_changes)
    ctx.failed_checks.extend(outcome.failures)
    print(
        f"  dbt build: {outcome.models_built} models, {outcome.tests_passed} tests passed, "
        f"{outcome.tests_failed} failed, {len(outcome.warnings)} warned"
    )


STEPS: list[tuple[str, Step]] = [
    ("generate", generate_cli.generate_step),
    ("ingest", ingest_cli.ingest_step),
    ("dbt build", dbt_build_step),
    ("recommendation quality", reco_quality_step),
    ("validate", validate_step),
    ("publish", publish_step),
]


def write_summary(summary: dict[str, Any]) -> str:
    path = dbt_runner.target_path() / "run_summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    return str(path)


def run(target: str = "local", steps: list[tuple[str, Step]] | None = None) -> int:
    """Run the pipeline; returns the process exit code (0 when every check passed)."""
    started = time.monotonic()
    settings = Settings.from_env()
    fmt = table_format.resolve(settings)
    ctx = RunContext(target=target, settings=settings)
    ctx.summary.update(target=target, table_format=fmt.name, table_format_reason=fmt.reason)
    # one id for the run's audit rows, written by dbt's on-run-end hook and the validate step
    ctx.summary["run_id"] = audit.new_run_id()
    with environment(LAKEHOUSE_RUN_ID=ctx.summary["run_id"]):
        return run_steps(ctx, steps if steps is not None else STEPS, started)


@contextmanager
def environment(**variables: str) -> Iterator[None]:
    """Set environment variables for a block (dbt reads the run id from one) and restore them."""
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


def run_steps(ctx: RunContext, chosen: list[tuple[str, Step]], started: float) -> int:
    from lakehouse.spark import executor_count, get_spark

    spark = get_spark("lakehouse-run")
    ctx.summary.update(spark_version=spark.version, spark_master=spark.sparkContext.master)
    ctx.summary["application_id"] = spark.sparkContext.applicationId
    for number, (name, step) in enumerate(chosen, start=1):
        print(f"[{number}/{len(chosen)}] {name}", flush=True)
        step_started = time.monotonic()
        try:
            step(ctx)
        except LakehouseError:
            ctx.summary["failed_step"] = name
            raise
        finally:
            ctx.summary.setdefault("step_seconds", {})[name] = round(time.monotonic() - step_started, 2)
            ctx.summary["wall_seconds"] = round(time.monotonic() - started, 2)
            write_summary(ctx.summary)
    ctx.summary["executors"] = executor_count(spark)  # at the end: executors register asynchronously
    ctx.summary["failed_checks"] = ctx.failed_checks
    path = write_summary(ctx.summary)
    print_summary(ctx.summary, path)
    return 1 if ctx.failed_checks else 0


def print_summary(summary: dict[str, Any], path: str) -> None:
    print(
        f"\nlakehouse run ({summary['target']}, {summary['table_format']}): "
        f"{summary.get('models_built', 0)} models built, {summary.get('tests_passed', 0)} tests passed, "
        f"{len(summary.get('tests_warned', []))} warned, {summary.get('tests_failed', 0)} failed "
        f"in {summary['wall_seconds']:.0f}s"
    )
    master = str(summary.get("spark_master"))
    local = master.startswith("local")
    workers = "tasks run in the driver" if local else f"{summary.get('executors')} executors"
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
            f"expectations: {summary['expectations_passed']} passed, {summary['expectations_failed']} failed "
            f"({summary.get('expectations_failed_critical', 0)} critical); "
            f"published: {'yes' if summary.get('published') else 'no'}; data docs: {summary.get('data_docs')}"
        )
    for warned in summary.get("tests_warned", []):
        print(f"  WARNED test {warned}")
    for check in summary.get("failed_checks", []):
        print(f"  FAILED {check}")
    print(f"summary: {path}")
