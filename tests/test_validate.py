"""The data-quality gate: GX suites on real Spark (the bronze contract, drift), dbt test results,
missing tables and warnings.

Tables live in databases private to this module (`gx_test_*`), so other tests sharing the
session's metastore are not affected.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import great_expectations.expectations as gxe
import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

from lakehouse import table_format
from lakehouse.checks import CRITICAL, ERROR, FAIL, PASS, SOURCE_GX, WARNING, CheckResult
from lakehouse.config import Settings
from lakehouse.ingest.tables import ensure_bronze
from lakehouse.validate import dbt_results, gate, suites

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


RELATIONS = {
    "source:clickstream.events": f"{BRONZE}.events",
    "source:ingestion.quarantine": f"{BRONZE}.quarantine",
}


@pytest.fixture
def bronze(spark: SparkSession) -> Iterator[str]:
    """A private bronze (the real DDL) for the project's bronze contract suite."""
    spark.sql(f"drop database if exists {BRONZE} cascade")
    ensure_bronze(spark, FORMAT, database=BRONZE)
    yield BRONZE
    spark.sql(f"drop database if exists {BRONZE} cascade")


def _bronze_suite() -> list[suites.TableSuite]:
    return [s for s in suites.SUITES if s.node == "source:clickstream.events"]


@pytest.mark.spark
def test_a_clean_batch_passes_the_bronze_contract(spark: SparkSession, bronze: str, tmp_path: Path) -> None:
    _append_bronze(spark, _bronze_rows(40, batch_id=1))
    report = gate.run_suites(spark, _bronze_suite(), tmp_path / "docs", RELATIONS)
    assert report.results
    assert [r.describe() for r in report.results if r.failed] == []
    assert {r.object for r in report.results} == {f"{BRONZE}.events"}


@pytest.mark.spark
def test_a_bad_batch_fails_the_bronze_contract_by_name(
    spark: SparkSession, bronze: str, tmp_path: Path
) -> None:
    """A negative price and a quantity of zero fail (critical); a day whose arrivals went to
    quarantine in bulk is a warning."""
    bad = _bronze_rows(40, batch_id=2)
    bad[9]["price"], bad[19]["quantity"] = -5.0, 0
    _append_bronze(spark, bad)
    quarantine = spark.table(f"{BRONZE}.quarantine")
    line = {"feed": "events", "raw_line": "{", "reason": "malformed_json", "_source_file": "f.jsonl"}
    line.update(_ingested_at=dt.datetime(2026, 3, 1, 12), _batch_id=2, _arrival_date=dt.date(2026, 3, 1))
    rejected = [tuple(line.get(f.name) for f in quarantine.schema.fields)] * 10
    spark.createDataFrame(rejected, quarantine.schema).write.insertInto(f"{BRONZE}.quarantine")

    report = gate.run_suites(spark, _bronze_suite(), tmp_path / "docs", RELATIONS)

    failed = {r.check: r for r in report.results if r.failed}
    assert set(failed) == {
        "expect_column_values_to_be_between(price)",
        "expect_column_values_to_be_between(quantity)",
        "expect_column_max_to_be_between(_quarantined_share)",
    }
    assert failed["expect_column_values_to_be_between(price)"].blocking
    assert failed["expect_column_values_to_be_between(price)"].failing_rows == 1
    share = failed["expect_column_max_to_be_between(_quarantined_share)"]
    assert (share.blocking, share.detail) == (False, "observed 0.2")  # 10 of 50 lines that day


@pytest.mark.spark
def test_drift_compares_the_newest_complete_day_with_the_days_before(spark: SparkSession) -> None:
    """Seven days of 100 events, then a day of 20 and a partial newest day: the day of 20 (the
    newest complete one) is a fifth of its trailing mean; with two days before it, nothing is
    compared at all."""
    rows = [(dt.date(2026, 3, day), n) for day in range(1, 8) for n in range(100)]
    rows += [(dt.date(2026, 3, 8), n) for n in range(20)] + [(dt.date(2026, 3, 9), 0)]
    frame = spark.createDataFrame(rows, "event_date date, n int")
    measures = {"events": sf.count(sf.lit(1)), "odd_share": sf.avg((sf.col("n") % 2).cast("double"))}

    drift = suites.daily_drift(frame, "event_date", measures).collect()

    assert len(drift) == 1
    assert drift[0]["event_date"] == dt.date(2026, 3, 8)
    assert drift[0]["_trailing_days"] == suites.TRAILING_DAYS
    assert drift[0]["events_ratio"] == pytest.approx(0.2)
    assert drift[0]["odd_share_shift"] == pytest.approx(0.0)
    early = frame.where("event_date <= date'2026-03-03'")
    assert suites.daily_drift(early, "event_date", measures).count() == 0


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
        "small",
        "test",
        expectations,
        prepare=lambda df, _relations: suites.as_flag(df, "_flagged", df["flag"]),
    )
    missing = suites.TableSuite("not_built", "test", list)
    relations = {"small": f"{MARTS}.small", "not_built": f"{MARTS}.not_built"}

    report = gate.run_suites(spark, [small, missing], tmp_path / "docs", relations)

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
