"""Smoke of the benchmark harness: tiny data, real Spark, every comparison wired and checked."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as sf

from lakehouse.errors import LakehouseError
from lakehouse_dev.bench import micro, report, runner
from lakehouse_dev.bench.memory import RssSampler, cpu_busy_and_total

SATURDAY_NOON = 1_768_046_400  # 2026-01-10 12:00:00 UTC
MONDAY_MIDNIGHT = 1_767_571_200  # 2026-01-05 00:00:00 UTC


def test_row_and_vectorized_features_agree_on_pandas_including_nulls() -> None:
    price = pd.Series([10.0, None, -2.0, 0.0, 99.5])
    quantity = pd.Series([2, 1, None, 3, None], dtype="Int64")
    seconds = pd.Series([SATURDAY_NOON, MONDAY_MIDNIGHT, None, MONDAY_MIDNIGHT + 21_600, SATURDAY_NOON])

    vectorized = micro.event_features_vectorized(price, quantity, seconds)

    def nullable(value: object) -> object:
        return None if pd.isna(value) else value

    rows = [
        micro.event_features_row(nullable(p), nullable(q), nullable(s))  # type: ignore[arg-type]
        for p, q, s in zip(price, quantity, seconds, strict=True)
    ]
    expected = pd.DataFrame(rows, columns=list(micro.FEATURE_NAMES))
    assert vectorized["is_weekend"].tolist() == [True, False, pd.NA, False, True]
    assert expected["is_weekend"].tolist() == [True, False, None, False, True]
    for name in ("log_price", "line_value", "hour_sin", "hour_cos"):
        np.testing.assert_allclose(
            vectorized[name].to_numpy(dtype=float),
            expected[name].to_numpy(dtype=float),
            atol=1e-12,
            equal_nan=True,
        )
    assert vectorized["log_price"].isna().tolist() == [False, True, True, False, False]
    assert vectorized.loc[3, "hour_sin"] == pytest.approx(1.0)  # 06:00 is a quarter turn


def test_udf_comparison_asserts_equal_outputs_and_reports_speedup(spark: SparkSession) -> None:
    events = micro.synthetic_events(spark, 3_000, days=3)

    figures = micro.compare_udfs(events)

    assert figures["udf_rows"] == 3_000
    # the ratio is the row-at-a-time side's time over the vectorized side's, as reported
    row, vectorized = figures["udf_row_at_a_time_seconds"], figures["udf_vectorized_seconds"]
    assert figures["udf_vectorized_speedup"] == pytest.approx(row / vectorized, rel=0.02)
    assert figures["udf_scan_only_seconds"] < row  # the UDF costs something on top of the scan


def test_feature_check_catches_a_wrong_vectorized_implementation(spark: SparkSession) -> None:
    events = micro.synthetic_events(spark, 2_000, days=3)
    priced = events.where(sf.col("price").isNotNull()).count()

    def off_by_one_cent(price: pd.Series, quantity: pd.Series, epoch_seconds: pd.Series) -> pd.DataFrame:
        return micro.event_features_vectorized(price + 0.01, quantity, epoch_seconds)

    assert micro.feature_mismatches(events, off_by_one_cent) == priced > 0


def test_tuned_vs_default_restores_the_session_settings(spark: SparkSession) -> None:
    before = spark.conf.get("spark.sql.shuffle.partitions")
    events = micro.synthetic_events(spark, 2_000, days=2)

    figures = micro.compare_tuned_vs_default(
        spark, events, query=lambda frame: (frame.groupBy("user_id").count(),), repeats=1
    )

    assert figures["tuned_rows"] == 2_000
    tuned, default = figures["tuned_seconds"], figures["default_conf_seconds"]
    assert figures["tuned_vs_default_speedup"] == pytest.approx(default / tuned, rel=0.02)
    assert spark.conf.get("spark.sql.shuffle.partitions") == before
    assert spark.conf.get("spark.sql.adaptive.enabled") == "true"


def test_sessions_query_splits_on_the_inactivity_gap(spark: SparkSession) -> None:
    rows = [
        ("e1", "u1", 0, "page_view"),
        ("e2", "u1", 30 * 60, "purchase"),  # exactly the gap: same session
        ("e3", "u1", 30 * 60 + 30 * 60 + 1, "page_view"),  # one second over: new session
        ("e3", "u1", 30 * 60 + 30 * 60 + 1, "page_view"),  # duplicate id: dropped
    ]
    events = spark.createDataFrame(rows, "event_id string, user_id string, s long, event_type string").select(
        "event_id",
        "user_id",
        "event_type",
        sf.timestamp_seconds(sf.lit(MONDAY_MIDNIGHT) + sf.col("s")).alias("event_ts"),
        sf.lit("mobile").alias("device_type"),
        sf.lit("direct").alias("channel"),
        sf.lit(5.0).alias("price"),
        sf.lit(2).alias("quantity"),
    )

    sessions, daily = micro.sessions_and_daily_query(events)

    assert sorted((r["events"], r["has_purchase"]) for r in sessions.collect()) == [(1, False), (2, True)]
    assert [(r["sessions"], r["converted_sessions"], r["revenue"]) for r in daily.collect()] == [(2, 1, 10.0)]


def test_topandas_comparison_collects_the_same_frame_both_ways(spark: SparkSession) -> None:
    events = micro.synthetic_events(spark, 1_500, days=2)

    figures = micro.compare_topandas(spark, events)

    assert figures["topandas_rows"] == 1_500
    plain, arrow = figures["topandas_plain_seconds"], figures["topandas_arrow_seconds"]
    assert figures["arrow_topandas_speedup"] == pytest.approx(plain / arrow, rel=0.02)
    assert spark.conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"


def test_frames_that_differ_in_one_value_are_caught() -> None:
    left = pd.DataFrame(
        {"a": [1.0, None, 3.0], "b": ["x", None, "z"], "t": pd.to_datetime(["2026-01-01"] * 3)}
    )
    assert micro.frame_differences(left, left.copy()) == 0
    changed = left.copy()
    changed.loc[2, "b"] = "y"
    assert micro.frame_differences(left, changed) == 1
    changed.loc[0, "a"] = 1.5
    assert micro.frame_differences(left, changed) == 2
    assert micro.frame_differences(left, left.iloc[:2]) == 3  # a lost row: everything differs


def test_rss_sampler_sees_the_driver_jvm(spark: SparkSession) -> None:
    with RssSampler(interval_seconds=0.05) as sampler:
        spark.range(50_000).selectExpr("sum(id)").collect()

    peaks = sampler.peaks_mb()
    assert sampler.samples
    assert peaks["driver_jvm"] > 100  # a running JVM with Spark loaded is hundreds of MiB
    assert peaks["total"] >= peaks["driver_jvm"] + peaks["driver_python"] - 1


def _spin(seconds: float) -> int:
    deadline, spins = time.perf_counter() + seconds, 0
    while time.perf_counter() < deadline:
        spins += 1
    return spins


def test_cpu_clock_counts_this_process_and_every_core() -> None:
    me = psutil.Process()
    own_before = me.cpu_times().user + me.cpu_times().system
    busy_before, total_before = cpu_busy_and_total()
    started = time.perf_counter()
    _spin(0.6)
    wall = time.perf_counter() - started
    busy_after, total_after = cpu_busy_and_total()
    own = me.cpu_times().user + me.cpu_times().system - own_before

    assert own > 0.2
    assert busy_after - busy_before >= 0.9 * own  # the machine's busy time includes this process's
    assert total_after - total_before == pytest.approx(wall * (os.cpu_count() or 1), rel=0.25)


def test_timed_stage_records_wall_time_and_cpu_share() -> None:
    bench = runner.BenchRun(runner.BenchOptions(scale_events=1_000, end_to_end=False))

    seconds, spins = bench.timed("spin", lambda: _spin(0.3))

    assert spins > 0
    assert bench.results["stage_seconds"]["spin"] == round(seconds, 2) >= 0.3
    assert 0 < bench.results["stage_cpu_busy_share"]["spin"] <= 1


def test_dbt_model_seconds_reads_models_only() -> None:
    run_results = {
        "results": [
            {"unique_id": "model.lakehouse.fct_sessions", "execution_time": 3.456},
            {"unique_id": "test.lakehouse.unique_fct_sessions_session_id.abc", "execution_time": 1.0},
            {"unique_id": "seed.lakehouse.country_regions", "execution_time": 0.5},
        ]
    }
    assert runner.dbt_model_seconds(run_results) == {"fct_sessions": 3.46}


def test_longest_chain_follows_dependencies_through_models_without_a_time() -> None:
    # a -> b -> d and a -> c -> d; p (a Python model, say) has no time but still orders e after b
    parents = {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}, "p": {"b"}, "e": {"p"}}
    seconds = {"a": 1.0, "b": 5.0, "c": 2.0, "d": 1.0, "e": 4.0}

    assert runner.longest_chain_seconds(seconds, parents) == 10.0  # a, b, (p), e
    assert runner.longest_chain_seconds({"c": 2.0, "d": 1.0}, parents) == 3.0
    assert runner.longest_chain_seconds({}, parents) == 0.0


def test_model_parents_keeps_models_only() -> None:
    models = {
        "fct_events": {
            "depends_on": {
                "nodes": ["model.lakehouse.int_events_sessionized", "seed.lakehouse.currency_rates"]
            }
        },
        "int_events_sessionized": {"depends_on": {"nodes": []}},
    }
    assert runner.model_parents(models) == {
        "fct_events": {"int_events_sessionized"},
        "int_events_sessionized": set(),
    }


def test_prepare_home_refuses_a_directory_that_is_not_the_benchmarks(tmp_path: Path) -> None:
    (tmp_path / "warehouse").mkdir()
    with pytest.raises(LakehouseError, match="not a benchmark state directory"):
        runner.prepare_home(tmp_path)
    assert (tmp_path / "warehouse").exists()

    fresh = tmp_path / "bench"
    runner.prepare_home(fresh)
    (fresh / "landing").mkdir()
    runner.prepare_home(fresh)  # its own directory: emptied again
    assert not (fresh / "landing").exists()


def test_report_writes_json_table_and_chart(tmp_path: Path) -> None:
    results = {
        "scale_events": 1000,
        "stage_seconds": {"generate": 1.5, "ingest": 2.0},
        "stage_cpu_busy_share": {"ingest": 0.874},
        "dbt_model_seconds": {"fct_sessions": 3.0},
        "peak_rss_mb": {"driver_jvm": 900.0, "total": 1200.0},
        "udf_vectorized_speedup": 12.0,
        "tuned_vs_default_speedup": 1.2,
        "no_new_data_vs_full_ratio": 0.514,
        "incremental_sql_chain_vs_full_ratio": 0.342,
        "dbt_marts_seconds": 40.56,
        "dbt_marts_chain_seconds": 38.04,
        "handwritten_marts_seconds": 23.06,
        "new_day_lines": {"events": 31_372, "cdc_users": 391, "cdc_products": 59, "cdc_orders": 621},
        "recommendations": {
            "reco_hit_rate_at_10": 0.109,
            "popularity_hit_rate_at_10": 0.0192,
            "reco_users_evaluated": 156,
        },
    }
    samples = RssSampler().samples

    path = report.write_results(results, tmp_path)
    chart = report.draw_chart(results, samples, tmp_path / "bench.png")
    table = report.format_table(results)

    assert json.loads(path.read_text())["udf_vectorized_speedup"] == 12.0
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report.target_verdicts(results) == {
        "udf_vectorized_speedup": "met",
        "tuned_vs_default_speedup": "missed",
        "incremental_vs_full_ratio": "not measured",
        "dbt_vs_handwritten_ratio": "not measured",
        "arrow_topandas_speedup": "not measured",
        "end_to_end_seconds": "not measured",
    }
    assert "fct_sessions" in table
    assert (
        "recommendations: hit-rate@10 0.109 vs best baseline popularity 0.0192 (156 users evaluated)" in table
    )
    assert "  ingest                                 2.0       87%" in table.splitlines()
    assert "      floor: no new data / full refresh         0.51" in table.splitlines()
    assert "      longest SQL chain / full refresh          0.34" in table.splitlines()
    assert (
        "      the models' longest chain took 38.0 s of dbt's 40.6 s; the hand-written job 23.1 s"
        in table.splitlines()
    )
    assert "      the new day: 31,372 event lines; 391 / 59 / 621 user / product / order changes" in (
        table.splitlines()
    )
    ten_million = {"scale_events": 10_000_000, "end_to_end_seconds": 1_100.0}
    assert report.target_verdicts(ten_million)["end_to_end_seconds"] == "met"
    assert report.target_verdicts({**ten_million, "scale_events": 1_000_000})["end_to_end_seconds"] == (
        "not measured"
    )


def test_handwritten_comparison_counts_rows_in_either_table_only(spark: SparkSession) -> None:
    from lakehouse_dev.bench import handwritten

    dbt_rows = spark.createDataFrame(
        [("s1", 0.1 + 0.2), ("s2", 1.0), ("s2", 1.0)], "id string, revenue double"
    )
    same = spark.createDataFrame([(0.3, "s1"), (1.0, "s2"), (1.0, "s2")], "revenue double, id string")
    one_copy_short = spark.createDataFrame([("s1", 0.3), ("s2", 1.0)], "id string, revenue double")

    assert handwritten.differing_rows(dbt_rows, same) == 0  # column order and last-digit noise ignored
    assert handwritten.differing_rows(dbt_rows, one_copy_short) == 1


def test_failed_phase_keeps_what_was_measured(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_micro(bench: runner.BenchRun, session: SparkSession) -> None:
        bench.stage("udf vectorized vs row", 1.25)
        time.sleep(0.5)  # the memory sampler has sampled by now
        raise LakehouseError("vectorized and row-at-a-time features differ on 3 of 1000 rows")

    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setattr(runner, "run_micro", failing_micro)
    with pytest.raises(LakehouseError, match="differ on 3"):
        runner.run_bench(runner.BenchOptions(scale_events=1_000, end_to_end=False), sample_interval=0.05)

    saved = json.loads((tmp_path / "target" / "bench" / "results.json").read_text())
    assert saved["error"] == "vectorized and row-at-a-time features differ on 3 of 1000 rows"
    assert saved["spark_version"] == spark.version
    assert saved["stage_seconds"]["udf vectorized vs row"] == 1.25
    assert saved["peak_rss_mb"]["driver_jvm"] > 0


def test_a_java_failure_names_its_stage_and_root_cause_in_one_line(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jvm = spark.sparkContext._jvm
    assert jvm is not None

    def disk_full() -> None:  # a Java exception wrapping another, as a failed Spark job raises it
        no_space = jvm.java.io.IOException("No space left on device")
        jvm.java.util.concurrent.CompletableFuture.failedFuture(no_space).get()

    def failing_micro(bench: runner.BenchRun, session: SparkSession) -> None:
        bench.timed("tuned vs default", disk_full)

    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setattr(runner, "run_micro", failing_micro)
    with pytest.raises(LakehouseError) as raised:
        runner.run_bench(runner.BenchOptions(scale_events=1_000, end_to_end=False), sample_interval=0.05)

    saved_path = tmp_path / "target" / "bench" / "results.json"
    assert str(raised.value) == (
        "tuned vs default failed: java.io.IOException: No space left on device "
        f"(what was measured before is in {saved_path})"
    )
    saved = json.loads(saved_path.read_text())
    assert saved["failed_stage"] == "tuned vs default"
    assert saved["error"] == "java.io.IOException: No space left on device"


def test_disk_shortfall_warns_only_when_the_run_would_not_fit(tmp_path: Path) -> None:
    not_yet_created = tmp_path / "bench" / "home"

    assert runner.disk_shortfall(1_000, [not_yet_created, tmp_path]) is None
    warning = runner.disk_shortfall(10**15, [not_yet_created])
    assert warning is not None
    assert warning.startswith(f"warning: {tmp_path} has ")
    assert "1,000,000,000,000,000 events need about" in warning


def test_the_parquet_comparison_runs_a_command_the_cli_accepts() -> None:
    """The Delta run's comparison starts `parquet_comparison_command` in a child process; a module
    or flag the command line does not know would fail only after an hour of benchmark at 1M."""
    import subprocess

    options = runner.BenchOptions(scale_events=1_000, days=2, seed=7)
    command = runner.parquet_comparison_command(options)
    done = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--end-to-end-only" in done.stdout
    flags = [arg for arg in command if arg.startswith("--")]
    assert [flag for flag in flags if flag not in done.stdout] == []
