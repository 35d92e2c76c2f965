"""The data-quality gate: GX suites on real Spark, audit rows, dbt test results, and the gate
stopping a bad batch before anything is published.

Tables live in databases private to this module (`gx_test_*`), so other tests sharing the
session's metastore are not affected.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import great_expectations.expectations as gxe
import pytest
from pyspark.sql import DataFrame, SparkSession

from lakehouse import table_format
from lakehouse.checks import CRITICAL, ERROR, FAIL, PASS, SOURCE_GX, WARNING, CheckResult
from lakehouse.config import Settings
from lakehouse.ingest.tables import ensure_bronze
from lakehouse.run import pipeline
from lakehouse.run.steps import Step, validate_step
from lakehouse.validate import audit, dbt_results, gate, suites

BRONZE = "gx_test_bronze"
MARTS = "gx_test_marts"
FORMAT = table_format.resolve(Settings.from_env()).name


# --- pure Python ----------------------------------------------------------------------------------


def test_check_name_names_the_expectation_and_its_columns() -> None:
    assert gate.check_name("expect_column_values_to_be_unique", {"column": "event_id"}) == (
        "expect_column_values_to_be_unique(event_id)"
    )
    assert gate.check_name(
        "expect_column_pair_values_a_to_be_greater_than_b", {"column_A": "end", "column_B": "start"}
    ) == ("expect_column_pair_values_a_to_be_greater_than_b(end, start)")
    assert gate.check_name("expect_compound_columns_to_be_unique", {"column_list": ["d", "c"]}) == (
        "expect_compound_columns_to_be_unique(d, c)"
    )
    assert gate.check_name("expect_table_row_count_to_be_between", {"min_value": 1}) == (
        "expect_table_row_count_to_be_between"
    )


def test_only_failed_critical_checks_block() -> None:
    failed_critical = CheckResult(SOURCE_GX, "marts.t", "c", CRITICAL, FAIL, 3)
    errored_critical = CheckResult(SOURCE_GX, "marts.t", "c", CRITICAL, ERROR)
    failed_warning = CheckResult(SOURCE_GX, "marts.t", "c", WARNING, FAIL)
    passed = CheckResult(SOURCE_GX, "marts.t", "c", CRITICAL, PASS)
    assert [r.blocking for r in (failed_critical, errored_critical, failed_warning, passed)] == [
        True,
        True,
        False,
        False,
    ]
    assert failed_critical.describe() == "expectation marts.t c [critical fail, 3 failing rows]"


def _write_dbt_artifacts(target: Path) -> None:
    nodes = {
        "model.lakehouse.fct_events": {"schema": "marts", "alias": "fct_events", "name": "fct_events"},
        "test.lakehouse.unique_fct_events_event_id.1": {
            "resource_type": "test",
            "name": "unique_fct_events_event_id",
            "attached_node": "model.lakehouse.fct_events",
            "config": {"severity": "ERROR"},
        },
        "test.lakehouse.relationships_fct_events_user_id.2": {
            "resource_type": "test",
            "name": "relationships_fct_events_user_id",
            "attached_node": "model.lakehouse.fct_events",
            "config": {"severity": "warn"},
        },
    }
    unit_tests = {
        "unit_test.lakehouse.fct_sessions.gap": {
            "resource_type": "unit_test",
            "name": "gap",
            "model": "fct_sessions",
            "config": {},
        }
    }
    results = [
        {"unique_id": "model.lakehouse.fct_events", "status": "success", "failures": None},
        {
            "unique_id": "test.lakehouse.unique_fct_events_event_id.1",
            "status": "fail",
            "failures": 4,
            "message": "Got 4 results, configured to fail if != 0",
        },
        {"unique_id": "test.lakehouse.relationships_fct_events_user_id.2", "status": "warn", "failures": 2},
        {"unique_id": "unit_test.lakehouse.fct_sessions.gap", "status": "pass", "failures": 0},
    ]
    target.mkdir(parents=True, exist_ok=True)
    (target / "manifest.json").write_text(json.dumps({"nodes": nodes, "unit_tests": unit_tests}))
    (target / "run_results.json").write_text(json.dumps({"results": results}))


def test_dbt_test_results_are_read_from_the_run_artifacts(tmp_path: Path) -> None:
    assert dbt_results.read_test_results(tmp_path) == []
    _write_dbt_artifacts(tmp_path)

    results = {r.check: r for r in dbt_results.read_test_results(tmp_path)}

    assert set(results) == {"unique_fct_events_event_id", "relationships_fct_events_user_id", "gap"}
    unique = results["unique_fct_events_event_id"]
    assert (unique.object, unique.severity, unique.status, unique.failing_rows) == (
        "marts.fct_events",
        CRITICAL,
        FAIL,
        4,
    )
    assert unique.detail == "Got 4 results, configured to fail if != 0"
    warned = results["relationships_fct_events_user_id"]
    assert (warned.severity, warned.status, warned.blocking) == (WARNING, FAIL, False)
    assert (results["gap"].object, results["gap"].status) == ("fct_sessions", PASS)


# --- on Spark -------------------------------------------------------------------------------------


def _bronze_rows(count: int, batch_id: int, start: int = 0) -> list[dict[str, Any]]:
    """Contract-valid clickstream rows: mostly page and product views, a few purchases."""
    rows = []
    for i in range(start, start + count):
        event_type = "purchase" if i % 10 == 9 else ("product_view" if i % 3 else "page_view")
        rows.append(
            {
                "event_id": f"e{i}",
                "event_type": event_type,
                "event_ts": dt.datetime(2026, 3, 1, 10, 0) + dt.timedelta(minutes=i),
                "user_id": f"u{i % 4}",
                "device_type": "mobile",
                "channel": "direct",
                "quantity": 1 if event_type == "purchase" else None,
                "price": 20.0 if event_type == "purchase" else None,
                "_ingested_at": dt.datetime(2026, 3, 1, 12, 0),
                "_source_file": f"landing/batch-{batch_id}.jsonl",
                "_batch_id": batch_id,
                "_arrival_date": dt.date(2026, 3, 1),
            }
        )
    return rows


def _append_bronze(spark: SparkSession, rows: list[dict[str, Any]]) -> None:
    table = spark.table(f"{BRONZE}.events")
    frame = spark.createDataFrame(
        [tuple(r.get(f.name) for f in table.schema.fields) for r in rows], table.schema
    )
    frame.write.insertInto(f"{BRONZE}.events")


def _daily_counts(spark: SparkSession) -> None:
    """A stand-in mart built from bronze (the gate reconciles its total with upstream)."""
    spark.sql(f"drop table if exists {MARTS}.daily_event_counts")
    spark.sql(
        f"create table {MARTS}.daily_event_counts using {FORMAT} as "
        f"select to_date(event_ts) as event_date, count(*) as events from {BRONZE}.events group by 1"
    )


def _daily_counts_suite() -> suites.TableSuite:
    def expectations() -> list[Any]:
        return [
            *suites.primary_key("event_date"),
            gxe.ExpectColumnSumToBeBetween(
                column="events",
                min_value={"$PARAMETER": "bronze_events_min"},
                max_value={"$PARAMETER": "bronze_events_max"},
            ),
        ]

    def parameters(spark: SparkSession) -> dict[str, Any]:
        count = spark.table(f"{BRONZE}.events").count()
        return {"bronze_events_min": count, "bronze_events_max": count}

    return suites.TableSuite(f"{MARTS}.daily_event_counts", expectations, parameters=parameters)


@pytest.fixture
def gate_suites(spark: SparkSession, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[suites.TableSuite]]:
    """The project's real bronze.events suite (on a private bronze) and a small mart suite."""
    for database in (BRONZE, MARTS):
        spark.sql(f"drop database if exists {database} cascade")
    ensure_bronze(spark, FORMAT, database=BRONZE)
    spark.sql(f"create database {MARTS}")
    bronze_suite = next(s for s in suites.SUITES if s.table == "bronze.events")
    chosen = [dataclasses.replace(bronze_suite, table=f"{BRONZE}.events"), _daily_counts_suite()]
    monkeypatch.setattr(suites, "SUITES", chosen)
    # pipeline.run exports the run id; restore the environment afterwards
    monkeypatch.setenv("LAKEHOUSE_RUN_ID", "")
    yield chosen
    for database in (BRONZE, MARTS):
        spark.sql(f"drop database if exists {database} cascade")


def _gate_only() -> list[tuple[str, Step]]:
    return [("validate", validate_step)]


def _summary(target: str) -> dict[str, Any]:
    return dict(json.loads((Path(target) / "run_summary.json").read_text()))


@pytest.mark.spark
def test_a_clean_batch_passes_the_gate(
    spark: SparkSession, gate_suites: list[suites.TableSuite], pipeline_target: str
) -> None:
    _append_bronze(spark, _bronze_rows(40, batch_id=1))
    _daily_counts(spark)

    exit_code = pipeline.run(steps=_gate_only())

    summary = _summary(pipeline_target)
    assert exit_code == 0, summary["failed_checks"]
    assert summary["expectations_failed_critical"] == 0
    assert summary["expectations_passed"] >= 15
    assert Path(summary["data_docs"]).is_file()
    assert Path(summary["data_docs"]).is_relative_to(Path(pipeline_target))

    audited = spark.table(audit.CHECK_RESULTS_TABLE).where(f"run_id = '{summary['run_id']}'")
    assert audited.count() == summary["expectations_passed"] + summary["expectations_failed"]
    unique = audited.where("check_name = 'expect_column_values_to_be_unique(event_date)'").first()
    assert unique is not None
    assert (unique["status"], unique["failing_rows"], unique["object_name"]) == (
        "pass",
        0,
        f"{MARTS}.daily_event_counts",
    )


@pytest.mark.spark
def test_a_bad_batch_fails_the_gate_by_name(
    spark: SparkSession, gate_suites: list[suites.TableSuite], pipeline_target: str
) -> None:
    _append_bronze(spark, _bronze_rows(40, batch_id=1))
    bad_batch = _bronze_rows(5, batch_id=2, start=40)
    bad_batch[0]["event_type"] = "teleport"  # not in the contract's event types
    bad_batch[1]["price"] = -5.0  # negative price
    _append_bronze(spark, bad_batch)
    _daily_counts(spark)

    exit_code = pipeline.run(steps=_gate_only())

    summary = _summary(pipeline_target)
    assert exit_code == 1
    failed = summary["failed_checks"]
    assert any(f"{BRONZE}.events expect_column_values_to_be_in_set(event_type)" in c for c in failed), failed
    assert any(f"{BRONZE}.events expect_column_values_to_be_between(price)" in c for c in failed), failed
    assert summary["expectations_failed_critical"] == len(failed) == 2

    audited = spark.table(audit.CHECK_RESULTS_TABLE).where(
        f"run_id = '{summary['run_id']}' and status = 'fail'"
    )
    assert {(r["check_name"], r["failing_rows"]) for r in audited.collect()} == {
        ("expect_column_values_to_be_in_set(event_type)", 1),
        ("expect_column_values_to_be_between(price)", 1),
    }


def _frame(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    return spark.createDataFrame(rows, "id int, amount double, flag boolean")


@pytest.mark.spark
def test_gate_reports_missing_tables_missing_columns_and_warnings(
    spark: SparkSession, tmp_path: Path
) -> None:
    spark.sql(f"create database if not exists {MARTS}")
    _frame(spark, [(1, 5.0, True), (2, -1.0, False), (2, 3.0, False)]).write.mode("overwrite").saveAsTable(
        f"{MARTS}.small"
    )

    def expectations() -> list[Any]:
        return [
            gxe.ExpectColumnValuesToBeUnique(column="id"),
            gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0, severity=suites.WARNING),
            gxe.ExpectColumnValuesToNotBeNull(column="no_such_column"),
            gxe.ExpectColumnMeanToBeBetween(column="_flagged", min_value=0.3, max_value=0.4),
        ]

    small = suites.TableSuite(
        f"{MARTS}.small", expectations, prepare=lambda df: suites.as_flag(df, "_flagged", df["flag"])
    )
    missing = suites.TableSuite(f"{MARTS}.not_built", list)

    report = gate.run_suites(spark, [small, missing], tmp_path / "docs")

    by_check = {(r.object, r.check): r for r in report.results}
    unique = by_check[(f"{MARTS}.small", "expect_column_values_to_be_unique(id)")]
    assert (unique.status, unique.failing_rows, unique.blocking) == (FAIL, 2, True)
    # counted without samples first, then validated again for them because something failed
    assert unique.detail == "unexpected values include 2, 2"
    negative = by_check[(f"{MARTS}.small", "expect_column_values_to_be_between(amount)")]
    assert (negative.status, negative.severity, negative.blocking) == (FAIL, WARNING, False)
    assert negative.detail == "unexpected values include -1.0"
    assert by_check[(f"{MARTS}.small", "expect_column_values_to_not_be_null(no_such_column)")].status == ERROR
    share = by_check[(f"{MARTS}.small", "expect_column_mean_to_be_between(_flagged)")]
    assert share.status == PASS  # 1 of 3 rows flagged
    absent = by_check[(f"{MARTS}.not_built", gate.TABLE_EXISTS_CHECK)]
    assert (absent.status, absent.severity) == (FAIL, CRITICAL)
    assert report.docs_index == tmp_path / "docs" / "index.html"
    assert report.docs_index.is_file()
    spark.sql(f"drop database if exists {MARTS} cascade")
