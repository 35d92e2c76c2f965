"""Every step of `lakehouse run`, side by side. Each reads the context, calls one domain package
and stores the typed result it returns; printing one or two lines of progress."""

from __future__ import annotations

from collections.abc import Callable

from lakehouse import dbt_runner
from lakehouse.run.context import RunContext

Step = Callable[[RunContext], None]


def ingest_step(ctx: RunContext) -> None:
    """Ingest what landed and reconcile: landed lines = bronze rows + quarantined rows, per feed."""
    from lakehouse.ingest.bronze import describe, ingest
    from lakehouse.spark import get_spark

    ctx.ingest = ingest(get_spark(), ctx.settings)
    for line in describe(ctx.ingest):
        print(f"  {line}")


def kafka_ingest_step(ctx: RunContext) -> None:
    """`lakehouse run --source kafka`: ingest the topics and reconcile per topic and partition."""
    from lakehouse.ingest import kafka
    from lakehouse.spark import get_spark

    ctx.ingest = kafka.ingest(get_spark(), ctx.settings)
    for line in kafka.describe(ctx.ingest):
        print(f"  {line}")


def dbt_build_step(ctx: RunContext) -> None:
    """`dbt build` of everything but the serving views (they wait for the gate)."""
    ctx.dbt = dbt_runner.invoke(["build", *ctx.dbt_selection], ctx.target)
    print(
        f"  dbt build: {ctx.dbt.models_built} models, {ctx.dbt.tests_passed} tests passed, "
        f"{ctx.dbt.tests_failed} failed, {len(ctx.dbt.warnings)} warned"
    )


def reco_quality_step(ctx: RunContext) -> None:
    """The recommender's evaluation (built by dbt) and its quality check."""
    from lakehouse.recommend.run_step import evaluate_quality

    ctx.reco = evaluate_quality()
    for line in ctx.reco.describe():
        print(f"  {line}")


def validate_step(ctx: RunContext) -> None:
    """The Great Expectations gate, and every check of the run recorded in `audit.check_results`."""
    from lakehouse.spark import get_spark
    from lakehouse.validate import audit, dbt_results, gate, suites

    spark = get_spark()
    target = dbt_runner.target_path()
    if not (target / "manifest.json").exists():  # `lakehouse validate` on its own: the tables' names
        dbt_runner.invoke(["parse"], ctx.target)
    relations = dbt_runner.named_relations(target / "manifest.json")
    ctx.gate = gate.run_suites(spark, suites.SUITES, target / gate.DOCS_DIR_NAME, relations)
    # dbt's artifacts describe this run only when this run ran dbt
    dbt_tests = dbt_results.read_test_results(dbt_runner.target_path()) if ctx.dbt is not None else []
    ctx.gate.audit_rows = audit.append_check_results(spark, ctx.run_id, [*ctx.gate.results, *dbt_tests])
    for line in ctx.gate.describe():
        print(f"  {line}")


def publish_step(ctx: RunContext) -> None:
    """Build the serving views of every data product with no failed check upstream."""
    import json

    from lakehouse.spark import get_spark
    from lakehouse.validate.publish import publish

    if ctx.gate is None:
        print("  publish: skipped, the quality gate did not run; nothing published")
        return
    manifest = json.loads((dbt_runner.target_path() / "manifest.json").read_text())
    ctx.publication = publish(get_spark(), manifest, ctx.failures(), ctx.run_id, ctx.target)
    print(f"  publish: {len(ctx.publication.published)} serving views", end="")
    print(f", {len(ctx.publication.withheld)} withheld" if ctx.publication.withheld else "")
    for view, reason in ctx.publication.withheld.items():
        print(f"    withheld {view}: {reason}")


STEPS: list[tuple[str, Step]] = [
    ("ingest", ingest_step),
    ("dbt build", dbt_build_step),
    ("recommendation quality", reco_quality_step),
    ("validate", validate_step),
    ("publish", publish_step),
]
