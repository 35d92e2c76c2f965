"""Run the expectation suites through Great Expectations on the project's SparkSession.

The GX context is ephemeral (in-memory stores, nothing written but the Data Docs) and reads
DataFrames from the session already running, so there is no second JVM and no Derby lock clash.
One checkpoint per table: a dataframe asset takes one DataFrame per checkpoint run.

Nothing is cached: GX's Spark source persists each DataFrame by default, which materializes every
column of the table (at 10M events about 50 s for each event table) while each metric query needs
a few; uncached, every query reads only its columns from the table files.

Each table is validated for counts first, without samples of unexpected values: fetching even 20
of them is one more scan per column expectation, and when the expectation passes it reads the
whole column to find none. A table with a failed expectation is validated again with samples, so
the audit and Data Docs show what failed.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession

from lakehouse.checks import CRITICAL, ERROR, FAIL, PASS, SOURCE_GX, CheckResult
from lakehouse.errors import one_line
from lakehouse.validate.suites import Relations, TableSuite

DOCS_SITE = "lakehouse"
TABLE_EXISTS_CHECK = "expect_table_to_exist"
PARAMETERS_CHECK = "compute_upstream_parameters"
COUNTS_ONLY = {"result_format": "BASIC", "partial_unexpected_count": 0}  # limit(0): Spark reads nothing
WITH_SAMPLES = {"result_format": "BASIC", "partial_unexpected_count": 20}
SAMPLE_DETAIL_CHARS = 200


DOCS_DIR_NAME = "gx_data_docs"  # under dbt's target directory


@dataclass
class GateReport:
    results: list[CheckResult]  # one per expectation
    docs_index: Path | None
    audit_rows: int = 0  # rows the run wrote to audit.check_results (expectations and dbt tests)

    def describe(self) -> list[str]:
        failed = [r for r in self.results if r.failed]
        critical = sum(1 for r in failed if r.blocking)
        lines = [
            f"validate: {len(self.results) - len(failed)} expectations passed, {len(failed)} failed "
            f"({critical} critical); {self.audit_rows} audit rows"
        ]
        lines += [f"  {'FAILED' if r.blocking else 'warning'} {r.describe()}" for r in failed]
        return lines


def run_suites(
    spark: SparkSession,
    suites: list[TableSuite],
    docs_dir: Path,
    relations: Relations,
    missing_table_severity: str = CRITICAL,
) -> GateReport:
    """Validate every suite's table (its dbt node resolved by `relations`); a missing table is one
    failed check of the given severity."""
    context = _ephemeral_context(docs_dir)
    source = context.data_sources.add_spark(name="lakehouse", persist=False)
    results: list[CheckResult] = []
    for suite in suites:
        table = relations.get(suite.node)
        if table is None or not _table_exists(spark, table):
            results.append(
                CheckResult(SOURCE_GX, table or suite.node, TABLE_EXISTS_CHECK, missing_table_severity, FAIL)
            )
            continue
        results.extend(_validate_table(spark, context, source, suite, table, relations))
    shutil.rmtree(docs_dir, ignore_errors=True)  # pages of earlier runs would linger unlinked
    context.build_data_docs(site_names=[DOCS_SITE])
    index = docs_dir / "index.html"
    return GateReport(results=results, docs_index=index if index.exists() else None)


def _ephemeral_context(docs_dir: Path) -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    site = {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites={DOCS_SITE: site},
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(project_config=config, mode="ephemeral")


def _table_exists(spark: SparkSession, table: str) -> bool:
    return bool(spark.catalog.tableExists(table))


def _validate_table(
    spark: SparkSession, context: Any, source: Any, suite: TableSuite, table: str, relations: Relations
) -> list[CheckResult]:
    import great_expectations as gx

    try:
        parameters = suite.parameters(spark, relations)
    except AnalysisException as exc:
        detail = one_line(exc, limit=200)
        return [CheckResult(SOURCE_GX, table, PARAMETERS_CHECK, CRITICAL, ERROR, detail=detail)]
    frame = suite.prepare(spark.table(table), relations)
    batch = source.add_dataframe_asset(name=suite.name).add_batch_definition_whole_dataframe(suite.name)
    gx_suite = context.suites.add(gx.ExpectationSuite(name=suite.name))
    for expectation in suite.expectations():
        gx_suite.add_expectation(expectation)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"gate__{suite.name}",
            validation_definitions=[definition],
            result_format=COUNTS_ONLY,
        )
    )
    results = _run(checkpoint, frame, parameters)
    if not all(result.success for result in results):
        checkpoint.result_format = WITH_SAMPLES
        checkpoint.save()
        results = _run(checkpoint, frame, parameters)
    return [_check_result(table, result) for result in results]


def _run(checkpoint: Any, frame: Any, parameters: dict[str, Any]) -> list[Any]:
    outcome = checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters)
    return [result for suite_result in outcome.run_results.values() for result in suite_result.results]


def _check_result(table: str, result: Any) -> CheckResult:
    config = result.expectation_config
    severity = str(getattr(config.severity, "value", config.severity))
    error = _exception_message(result.exception_info)
    details: dict[str, Any] = result.result or {}
    unexpected = details.get("unexpected_count")
    if error is not None:
        status, detail = ERROR, error
    elif result.success:
        status, detail = PASS, ""
    else:
        status = FAIL
        observed = details.get("observed_value")
        sample = details.get("partial_unexpected_list")
        if observed is not None:
            detail = f"observed {observed}"
        elif sample:
            detail = f"unexpected values include {', '.join(map(repr, sample))}"[:SAMPLE_DETAIL_CHARS]
        else:
            detail = ""
    return CheckResult(
        source=SOURCE_GX,
        object=table,
        check=check_name(config.type, config.kwargs),
        severity=severity,
        status=status,
        failing_rows=int(unexpected) if unexpected is not None else None,
        detail=detail,
    )


def check_name(expectation_type: str, kwargs: dict[str, Any]) -> str:
    """`expect_column_values_to_be_unique(event_id)`: the expectation and the columns it checks."""
    columns: list[str] = []
    for key in ("column", "column_A", "column_B"):
        if kwargs.get(key):
            columns.append(str(kwargs[key]))
    columns.extend(str(c) for c in kwargs.get("column_list") or [])
    return f"{expectation_type}({', '.join(columns)})" if columns else expectation_type


def _exception_message(info: dict[str, Any] | None) -> str | None:
    """GX reports an expectation that raised either flat or keyed by metric: find the message."""
    if not info:
        return None
    candidates = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            message = str(candidate.get("exception_message") or "raised an exception")
            return message.strip().splitlines()[0][:200]
    return None
