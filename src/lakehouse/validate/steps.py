"""Pipeline steps: `validate` (the quality gate) and `publish` (serving views, only after the gate).

`validate` runs the Great Expectations suites, records them and the dbt test results of this run
in `audit.check_results`, builds Data Docs, and adds every failed critical expectation to the
run's failed checks. `publish` then refuses to publish when any check of the run failed, so a
bad batch never reaches `serving`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse import dbt_runner, delta
from lakehouse.validate import audit, dbt_results
from lakehouse.validate.results import CRITICAL, CheckResult, count

if TYPE_CHECKING:
    from lakehouse.pipeline import RunContext

SERVING_SCHEMA = "serving"
DOCS_DIR_NAME = "gx_data_docs"
# A table the gate should check but dbt did not build fails the run.
MISSING_TABLE_SEVERITY = CRITICAL


def data_docs_dir() -> Path:
    return dbt_runner.target_path() / DOCS_DIR_NAME


def validate_step(ctx: RunContext) -> None:
    from lakehouse.spark import get_spark
    from lakehouse.validate import gate, suites

    spark = get_spark()
    run_id = ctx.summary.setdefault("run_id", audit.new_run_id())
    report = gate.run_suites(spark, suites.SUITES, data_docs_dir(), MISSING_TABLE_SEVERITY)
    expectations = report.results
    # dbt's artifacts describe this run only when the pipeline ran dbt before this step
    ran_dbt = "tests_passed" in ctx.summary
    dbt_tests = dbt_results.read_test_results(dbt_runner.target_path()) if ran_dbt else []
    audit_rows = audit.append_check_results(spark, str(run_id), [*expectations, *dbt_tests])
    summarise(ctx, expectations, report.docs_index, audit_rows)


def summarise(ctx: RunContext, expectations: list[CheckResult], docs: Path | None, audit_rows: int) -> None:
    failed = [r for r in expectations if r.failed]
    ctx.summary.update(
        expectations_passed=count(expectations, failed=False),
        expectations_failed=len(failed),
        expectations_failed_critical=count(expectations, failed=True, severity=CRITICAL),
        data_docs=str(docs) if docs else None,
        audit_rows_written=audit_rows,
    )
    ctx.failed_checks.extend(r.describe() for r in failed if r.blocking)
    print(
        f"  validate: {ctx.summary['expectations_passed']} expectations passed, {len(failed)} failed "
        f"({ctx.summary['expectations_failed_critical']} critical); {audit_rows} audit rows"
    )
    for result in failed:
        print(f"    {'FAILED' if result.blocking else 'warning'} {result.describe()}")


def published_tables() -> list[str]:
    from lakehouse.validate.suites import SUITES

    return [s.table for s in SUITES if s.publish]


def publish_step(ctx: RunContext) -> None:
    """Point `serving.<table>` views at the validated marts and features, if the run is clean."""
    from lakehouse.spark import get_spark

    if "expectations_passed" not in ctx.summary or ctx.failed_checks:
        reason = "the quality gate did not run" if not ctx.failed_checks else "checks failed"
        ctx.summary.update(published=False, published_views=[])
        print(f"  publish: skipped, {reason}; nothing published")
        return
    spark = get_spark()
    spark.sql(f"create database if not exists {SERVING_SCHEMA}")
    views, versions = [], {}
    for table in published_tables():
        if spark.catalog.tableExists(table):
            view = f"{SERVING_SCHEMA}.{table.rpartition('.')[2]}"
            spark.sql(f"create or replace view {view} as select * from {table}")
            views.append(view)
            version = delta.table_version(spark, table)
            if version is not None:
                versions[table] = version
    delta.record_published_versions(spark, str(ctx.summary.get("run_id")), versions, audit.file_format())
    ctx.summary.update(published=True, published_views=views, published_versions=versions)
    print(f"  publish: {len(views)} serving views" + (" (Delta versions recorded)" if versions else ""))


def validate_command() -> int:
    """`lakehouse validate`: the gate on the tables as they are (no dbt build, nothing published)."""
    from lakehouse.config import Settings
    from lakehouse.pipeline import RunContext

    ctx = RunContext(target="local", settings=Settings.from_env())
    validate_step(ctx)
    print(f"data docs: {ctx.summary.get('data_docs')}")
    for check in ctx.failed_checks:
        print(f"  FAILED {check}")
    return 1 if ctx.failed_checks else 0
