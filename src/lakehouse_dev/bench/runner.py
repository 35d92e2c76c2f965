"""`lakehouse bench`: one process, one SparkSession, every measurement in one run.

Order matters: the end-to-end stages (generate, ingest, dbt build, validate) run first on a fresh
state directory; the incremental comparison then reuses that data, right after the build, so that
its run with no new data finds nothing to do (after the dbt-vs-hand-written comparison's partial
full refresh it would rebuild what depends on the refreshed models); the micro-benchmarks run last
on the ingested events (or on synthetic events with `--micro-only`).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pyspark.sql import DataFrame, SparkSession

from lakehouse import dbt_runner, delta, table_format
from lakehouse.config import Settings
from lakehouse.dbt_runner import DbtOutcome
from lakehouse.errors import LakehouseError, one_line
from lakehouse.recommend.run_step import evaluate_quality
from lakehouse.run.context import RunContext
from lakehouse_dev.bench import DEFAULT_MICRO_ROWS, DEFAULT_SCALE, handwritten, micro, report
from lakehouse_dev.bench.kafka import run_kafka_ingest
from lakehouse_dev.bench.memory import RssSampler, cpu_busy_and_total

# `lakehouse bench` wipes its state directory; this marker proves the directory is the harness's own.
HOME_MARKER = ".lakehouse-bench-home"
STATE_SUBDIRS = ("landing", "checkpoints", "warehouse", "metastore_db", "pending", "streaming")
# generated files not delivered to the landing zone yet: (c)'s new day, and what arrives after it
PENDING = "pending"
# Disk a run needs per event, state directory and Spark's shuffle files together: at 10M events the
# state directory held 11 GB, and (b)'s query under Spark's defaults needed more than the 7 GB of
# shuffle space that were left.
DISK_BYTES_PER_EVENT = 2_500
GB = 1024**3
# where (c) keeps the incremental run's tables to compare with the full refresh (and, on Delta, the
# tables of the same run with the event-date models MERGEd instead of overwriting their partitions)
INCREMENTAL_COPIES = "bench_incremental"
MERGE_COPIES = "bench_incremental_merge"
# the models whose strategy var('delta_event_dates_strategy') chooses on Delta
EVENT_DATE_MODELS = ("int_events_sessionized", "fct_events")
MERGE_VARS = "{delta_event_dates_strategy: merge}"
T = TypeVar("T")


@dataclass(frozen=True)
class BenchOptions:
    """What `lakehouse bench` measures and on how much data."""

    scale_events: int = DEFAULT_SCALE
    days: int = 30
    seed: int = 42
    micro_rows: int = DEFAULT_MICRO_ROWS
    repeats: int = 1
    end_to_end: bool = True
    target: str = "local"
    only_end_to_end: bool = False  # the end-to-end stages and nothing else (the Parquet comparison)
    compare_parquet: bool = True  # on Delta: the end-to-end stages again on Parquet, in a child process
    kafka: bool = False  # also Kafka → bronze (bench.kafka; needs `make streaming-setup`)
    ingest_only: bool = False  # generate and ingest only: the ingestion throughput, files (and Kafka)

    def __post_init__(self) -> None:
        if self.scale_events < 1_000:
            raise LakehouseError(f"--scale {self.scale_events}: benchmark at least 1,000 events")
        if self.days < 1:
            raise LakehouseError(f"--days {self.days}: generate at least one day")


@dataclass
class BenchRun:
    """Results as they accumulate; `timed` runs one named stage into `stage_seconds` and
    `stage_cpu_busy_share`."""

    options: BenchOptions
    results: dict[str, Any] = field(default_factory=dict)

    def stage(self, name: str, seconds: float, cpu_busy_share: float | None = None) -> None:
        self.results.setdefault("stage_seconds", {})[name] = round(seconds, 2)
        if cpu_busy_share is not None:
            self.results.setdefault("stage_cpu_busy_share", {})[name] = round(cpu_busy_share, 3)

    def timed(self, name: str, action: Callable[[], T]) -> tuple[float, T]:
        """Run stage `name`: its wall time, and the share of the machine's core time spent busy
        meanwhile (below 1 means cores stood idle, waiting on a single thread, I/O or the metastore)."""
        busy_before, total_before = cpu_busy_and_total()
        try:
            seconds, value = micro.timed(action)
        except BaseException:
            self.results["failed_stage"] = name
            raise
        busy_after, total_after = cpu_busy_and_total()
        elapsed = total_after - total_before
        self.stage(name, seconds, (busy_after - busy_before) / elapsed if elapsed > 0 else None)
        return seconds, value


def results_dir() -> Path:
    return dbt_runner.target_path() / "bench"


def disk_shortfall(scale_events: int, paths: list[Path]) -> str | None:
    """A warning when a filesystem the run writes to (its state directory, Spark's scratch space)
    has less free space than `scale_events` need; None when each has enough."""
    need = scale_events * DISK_BYTES_PER_EVENT
    for path in paths:
        existing = next(p for p in (path, *path.parents) if p.exists())
        free = shutil.disk_usage(existing).free
        if free < need:
            return (
                f"warning: {existing} has {free / GB:.1f} GB free; {scale_events:,} events need about "
                f"{need / GB:.1f} GB for the state directory and shuffle files, so the run may fail late"
            )
    return None


def prepare_home(home: Path) -> None:
    """Empty the benchmark's state directory so generate and ingest start from nothing.

    Refuses a non-empty directory without the harness's marker: `LAKEHOUSE_HOME` may point at a
    developer's warehouse, which a benchmark must never delete.
    """
    home.mkdir(parents=True, exist_ok=True)
    marker = home / HOME_MARKER
    if not marker.exists() and any(home.iterdir()):
        raise LakehouseError(
            f"{home} is not a benchmark state directory (no {HOME_MARKER}); "
            "point LAKEHOUSE_HOME at an empty or benchmark-only directory"
        )
    for name in STATE_SUBDIRS:
        shutil.rmtree(home / name, ignore_errors=True)
    marker.write_text("state of `lakehouse bench`; emptied at the start of every benchmark run\n")


# --- end-to-end stages -----------------------------------------------------------------------------


def generate_and_deliver(settings: Settings, options: BenchOptions) -> tuple[Any, dict[str, int]]:
    """Generate `days` days and the day after them, one world and one history, into the pending
    zone; deliver to the landing zone what arrived during the `days` days. The day after is (c)'s
    new day: what the sources deliver on it."""
    from lakehouse_dev.generate import generate

    generated = generate(
        scale_events=options.scale_events + options.scale_events // options.days,
        days=options.days + 1,
        seed=options.seed,
        out_dir=settings.home / PENDING,
    )
    last_day = date.fromisoformat(str(generated.config["start_date"])) + timedelta(days=options.days - 1)
    return generated, deliver_through(settings, last_day)


def deliver_through(settings: Settings, day: date) -> dict[str, int]:
    """Move the pending files that arrived by `day` into the landing zone (lines per feed)."""
    from lakehouse_dev.generate.landing import land_arrivals

    return land_arrivals(settings.home / PENDING, settings.landing_dir, day)


def ingest_landed(spark: SparkSession, settings: Settings) -> Any:
    from lakehouse.ingest import ingest

    return ingest(spark, settings)


def dbt_model_seconds(run_results: dict[str, Any]) -> dict[str, float]:
    """Execution time of every model in one dbt invocation, from its run_results.json."""
    seconds: dict[str, float] = {}
    for result in run_results.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        if unique_id.startswith("model."):
            seconds[unique_id.split(".")[-1]] = round(float(result.get("execution_time") or 0.0), 2)
    return seconds


def dbt_models(command: list[str], target: str) -> tuple[dict[str, float], DbtOutcome]:
    """Run dbt; returns per-model times and a summary of what it ran."""
    import json

    outcome = dbt_runner.invoke(command, target)
    if not outcome.success:
        failures = "; ".join(outcome.failures[:3]) or "see dbt logs"
        raise LakehouseError(f"dbt {' '.join(command)} failed during the benchmark: {failures}")
    run_results = json.loads((dbt_runner.target_path() / "run_results.json").read_text())
    return dbt_model_seconds(run_results), outcome


def validate_tables(ctx: RunContext) -> dict[str, Any]:
    """The run's validate step on what this run built (dbt's test results included)."""
    from lakehouse.run.steps import validate_step

    validate_step(ctx)
    results = ctx.gate.results if ctx.gate else []
    failed = sum(1 for result in results if result.failed)
    return {"expectations_passed": len(results) - failed, "expectations_failed": failed}


def run_end_to_end(bench: BenchRun, spark: SparkSession, settings: Settings) -> None:
    """Generate, ingest, dbt build, validate `scale_events` over `days` days: the pipeline a user runs."""
    options = bench.options
    _, (generated, delivered) = bench.timed("generate", lambda: generate_and_deliver(settings, options))
    _, ingested = bench.timed("ingest", lambda: ingest_landed(spark, settings))
    bench.results.update(
        generated_events=int(generated.events),
        generated_lines=sum(generated.lines.values()),
        landed_lines=delivered,
        bronze_events=int(ingested.feeds["events"].bronze),
        generation_start_date=generated.config.get("start_date"),
    )
    if options.ingest_only:
        return
    _, (models, built) = bench.timed("dbt build", lambda: dbt_models(["build"], options.target))
    bench.results["dbt_model_seconds"] = models
    bench.results["recommendations"] = evaluate_quality().figures
    ctx = RunContext(target=options.target, settings=settings, run_id=os.environ["LAKEHOUSE_RUN_ID"])
    ctx.dbt = built
    _, validated = bench.timed("validate", lambda: validate_tables(ctx))
    total = sum(bench.results["stage_seconds"][s] for s in ("generate", "ingest", "dbt build", "validate"))
    bench.results.update(
        end_to_end_seconds=round(total, 2),
        end_to_end_events_per_s=round(options.scale_events / total, 1) if total else 0.0,
        dbt_build={"models": built.models_built, "tests_passed": built.tests_passed},
        validation=validated,
    )


def run_dbt_vs_handwritten(bench: BenchRun, spark: SparkSession) -> None:
    """(d) dbt building the sessions and daily marts (and what they need) from bronze, full refresh,
    against the hand-written PySpark job writing the same marts; the outputs must match."""
    selection = " ".join(f"+{mart}" for mart in handwritten.MARTS)
    dbt_seconds, (models, _) = bench.timed(
        "dbt run sessions + daily marts",
        lambda: dbt_models(["run", "--full-refresh", "--select", selection], bench.options.target),
    )
    script_seconds, tables = bench.timed(
        "hand-written sessions + daily marts", lambda: handwritten.build_marts(spark)
    )
    differences = {
        mart: handwritten.differing_rows(spark.table(f"marts.{mart}"), spark.table(table))
        for mart, table in tables.items()
    }
    # the models' own work on the longest dependent chain; the rest of the wall time is dbt's
    # (start, parse, compile, bookkeeping between models) and the project's on-run-end hook
    chain = longest_chain_seconds(models, model_parents(manifest_models()))
    bench.results.update(
        dbt_vs_handwritten_ratio=round(dbt_seconds / script_seconds, 3),
        dbt_marts_seconds=round(dbt_seconds, 2),
        dbt_marts_chain_seconds=round(chain, 2),
        handwritten_marts_seconds=round(script_seconds, 2),
        dbt_marts_model_seconds=models,
        handwritten_differing_rows=differences,
    )
    if any(differences.values()):
        raise LakehouseError(f"hand-written marts differ from dbt's: {differences}")


def run_incremental(bench: BenchRun, spark: SparkSession, settings: Settings) -> None:
    """(c) deliver the next day's arrivals (that day's events and changes, plus late and duplicate
    lines of the days before), `dbt run` incrementally, then a full refresh over every day (the same
    models, the same data); every incremental model's output must equal its full rebuild. First,
    `dbt run` with nothing new landed: the floor of any incremental run (models that rebuild from
    all history, and every model's fixed cost)."""
    options = bench.options
    idle_seconds, (idle_models, _) = bench.timed(
        "dbt run incremental (no new data)", lambda: dbt_models(["run"], options.target)
    )
    first_day = date.fromisoformat(str(bench.results["generation_start_date"]))
    new_day_date = first_day + timedelta(days=options.days)  # later arrivals never land
    _, new_day = bench.timed("deliver new day", lambda: deliver_through(settings, new_day_date))
    bench.results["new_day_lines"] = new_day
    bench.timed("ingest new day", lambda: ingest_landed(spark, settings))
    manifest = manifest_models()
    relations = incremental_relations(manifest)
    versions = {name: delta.table_version(spark, relation) for name, relation in relations.items()}
    incremental_seconds, (incremental_models, _) = bench.timed(
        "dbt run incremental (+1 day)", lambda: dbt_models(["run"], options.target)
    )
    sql_seconds = {
        name: seconds
        for name, seconds in incremental_models.items()
        if manifest.get(name, {}).get("language") == "sql"
    }
    # what the new day costs the SQL models alone: about (c) if every Python model took no time
    sql_chain = longest_chain_seconds(sql_seconds, model_parents(manifest))
    copy_tables(spark, relations, INCREMENTAL_COPIES)  # kept to compare with the full refresh
    on_delta = bool(versions) and all(version is not None for version in versions.values())
    if on_delta:  # the same run again from the same tables, the event-date models MERGEd
        for name, relation in relations.items():
            spark.sql(f"restore table {relation} to version as of {versions[name]}")
        merge_seconds, (merge_models, _) = bench.timed(
            "dbt run incremental (+1 day, merge)",
            lambda: dbt_models(["run", "--vars", MERGE_VARS], options.target),
        )
        copy_tables(spark, relations, MERGE_COPIES)
    full_seconds, (full_models, _) = bench.timed(
        "dbt run full refresh", lambda: dbt_models(["run", "--full-refresh"], options.target)
    )
    differences = differing_rows(spark, relations, INCREMENTAL_COPIES)
    names = sorted(relations)
    bench.results.update(
        incremental_vs_full_ratio=round(incremental_seconds / full_seconds, 3),
        no_new_data_vs_full_ratio=round(idle_seconds / full_seconds, 3),
        incremental_sql_chain_seconds=round(sql_chain, 2),
        incremental_sql_chain_vs_full_ratio=round(sql_chain / full_seconds, 3),
        no_new_data_model_seconds=idle_models,
        incremental_model_seconds={n: incremental_models.get(n, 0.0) for n in names},
        full_refresh_model_seconds={n: full_models.get(n, 0.0) for n in names},
        incremental_models_vs_full_ratio=round(
            sum(incremental_models.get(n, 0.0) for n in names)
            / max(1e-9, sum(full_models.get(n, 0.0) for n in names)),
            3,
        )
        if names
        else None,
        incremental_differing_rows=differences,
    )
    if on_delta:
        overwrite = sum(incremental_models.get(n, 0.0) for n in EVENT_DATE_MODELS)
        merge = sum(merge_models.get(n, 0.0) for n in EVENT_DATE_MODELS)
        merge_differences = differing_rows(spark, relations, MERGE_COPIES)
        bench.results.update(
            incremental_merge_seconds=round(merge_seconds, 2),
            event_date_models_seconds={
                "insert_overwrite": {n: incremental_models.get(n, 0.0) for n in EVENT_DATE_MODELS},
                "merge": {n: merge_models.get(n, 0.0) for n in EVENT_DATE_MODELS},
            },
            merge_vs_overwrite_ratio=round(merge / overwrite, 3) if overwrite else None,
            incremental_merge_differing_rows=merge_differences,
        )
        differences = {n: differences[n] + merge_differences[n] for n in names}
    if any(differences.values()):
        raise LakehouseError(f"incremental models differ from their full refresh: {differences}")


def copy_tables(spark: SparkSession, relations: Mapping[str, str], database: str) -> None:
    spark.sql(f"create database if not exists {database}")
    for name, relation in relations.items():
        spark.table(relation).write.mode("overwrite").format("parquet").saveAsTable(f"{database}.{name}")


def differing_rows(spark: SparkSession, relations: Mapping[str, str], database: str) -> dict[str, int]:
    """Rows of each model's table that its copy in `database` lacks, or has in excess."""
    return {
        name: handwritten.differing_rows(spark.table(relation), spark.table(f"{database}.{name}"))
        for name, relation in relations.items()
    }


def manifest_models() -> dict[str, dict[str, Any]]:
    """The model nodes in the manifest of the last dbt invocation, by name."""
    import json

    manifest_path = dbt_runner.target_path() / "manifest.json"
    nodes = json.loads(manifest_path.read_text()).get("nodes", {}) if manifest_path.exists() else {}
    return {node["name"]: node for node in nodes.values() if node.get("resource_type") == "model"}


def incremental_relations(models: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """`schema.table` of every incremental model among `models` (`manifest_models`)."""
    return {
        name: f"{node['schema']}.{node.get('alias') or name}"
        for name, node in models.items()
        if node.get("config", {}).get("materialized") == "incremental"
    }


def model_parents(models: Mapping[str, Mapping[str, Any]]) -> dict[str, set[str]]:
    """Each model's parent models (`manifest_models`), by name."""
    return {
        name: {
            parent.split(".")[-1]
            for parent in node.get("depends_on", {}).get("nodes", [])
            if parent.startswith("model.")
        }
        for name, node in models.items()
    }


def longest_chain_seconds(seconds: Mapping[str, float], parents: Mapping[str, Collection[str]]) -> float:
    """The longest chain of dependent models, each counted at its `seconds` (0 when absent): a dbt
    run with these model times cannot finish sooner, whatever its threads."""
    finished: dict[str, float] = {}

    def finish(model: str) -> float:
        if model not in finished:
            start = max((finish(parent) for parent in parents.get(model, ())), default=0.0)
            finished[model] = start + seconds.get(model, 0.0)
        return finished[model]

    return max((finish(model) for model in {*parents, *seconds}), default=0.0)


# --- micro-benchmarks --------------------------------------------------------------------------------


def micro_events(spark: SparkSession, rows: int, from_pipeline: bool) -> tuple[DataFrame, str]:
    """Up to `rows` ingested events when the pipeline ran, else synthetic events of the same shape;
    either way only the clickstream columns feature code reads (`micro.EVENT_COLUMNS`)."""
    if not (from_pipeline and spark.catalog.tableExists("bronze.events")):
        return micro.synthetic_events(spark, rows).select(*micro.EVENT_COLUMNS), "synthetic"
    events = spark.table("bronze.events").select(*micro.EVENT_COLUMNS)
    if events.count() <= rows:
        return events, "bronze.events"
    # limit() gathers its rows into one partition: spread them again so every core works
    return events.limit(rows).repartition(spark.sparkContext.defaultParallelism), "bronze.events"


def run_micro(bench: BenchRun, spark: SparkSession) -> None:
    options = bench.options
    rows = min(options.scale_events, options.micro_rows)
    events, source = micro_events(spark, rows, options.end_to_end)
    bench.results["micro_source"] = source
    bench.results["micro_columns"] = list(micro.EVENT_COLUMNS)
    for name, action in (
        # best of 3 at least: the UDF runs take seconds, and one run is at the mercy of the machine
        ("udf vectorized vs row", lambda: micro.compare_udfs(events, max(3, options.repeats))),
        ("toPandas arrow vs plain", lambda: micro.compare_topandas(spark, events, options.repeats)),
    ):
        _, figures = bench.timed(name, action)
        bench.results.update(figures)
    all_events, _ = micro_events(spark, options.scale_events, options.end_to_end)
    _, figures = bench.timed(
        "tuned vs default", lambda: micro.compare_tuned_vs_default(spark, all_events, repeats=options.repeats)
    )
    bench.results.update(figures)


# --- the whole run -----------------------------------------------------------------------------------


def parquet_comparison_command(options: BenchOptions) -> list[str]:
    """The child process of compare_with_parquet: this benchmark's end-to-end stages alone."""
    return [
        sys.executable,
        "-m",
        "lakehouse_dev.cli",
        "bench",
        "--end-to-end-only",
        "--target",
        options.target,
        "--scale",
        str(options.scale_events),
        "--days",
        str(options.days),
        "--seed",
        str(options.seed),
    ]


def compare_with_parquet(bench: BenchRun, settings: Settings) -> None:
    """The end-to-end stages again on Parquet, same data (same scale, days and seed), in a child
    process with its own state directory: `delta_vs_parquet_end_to_end_ratio` is what Delta costs
    the pipeline end to end."""
    import json
    import subprocess

    home = settings.home.with_name(f"{settings.home.name}-parquet")
    target = results_dir() / "parquet"
    log_path = results_dir() / "parquet.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = parquet_comparison_command(bench.options)
    env = {
        **os.environ,
        "LAKEHOUSE_TABLE_FORMAT": "parquet",
        "LAKEHOUSE_HOME": str(home),
        "DBT_TARGET_PATH": str(target),
    }
    env.pop(table_format.ENV_RESOLVED, None)
    print(f"  the same end-to-end stages on Parquet, for the comparison (log: {log_path})", file=sys.stderr)
    with log_path.open("w") as log:
        seconds, done = micro.timed(
            lambda: subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        )
    bench.stage("parquet comparison (child process)", seconds)
    if done.returncode != 0:
        raise LakehouseError(f"the Parquet comparison failed (exit {done.returncode}); see {log_path}")
    parquet = json.loads((target / "bench" / "results.json").read_text())
    bench.results.update(
        parquet_end_to_end_seconds=parquet["end_to_end_seconds"],
        parquet_stage_seconds=parquet["stage_seconds"],
        delta_vs_parquet_end_to_end_ratio=round(
            bench.results["end_to_end_seconds"] / parquet["end_to_end_seconds"], 3
        ),
    )


def kafka_spark_conf(settings: Settings) -> dict[str, str]:
    from lakehouse.ingest import kafka

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return kafka.spark_conf(settings)


def run_bench(options: BenchOptions, sample_interval: float = 0.5) -> dict[str, Any]:
    """Run every measurement, write results.json and the chart, print the table; returns the results."""
    from lakehouse.spark import get_spark, stop_spark

    settings = Settings.from_env()
    if options.end_to_end:
        prepare_home(settings.home)
        scratch = Path(os.environ.get("SPARK_LOCAL_DIRS", tempfile.gettempdir()).split(",")[0])
        shortfall = disk_shortfall(options.scale_events, [settings.home, scratch])
        if shortfall:
            print(shortfall, file=sys.stderr)
    os.environ.setdefault("LAKEHOUSE_RUN_ID", f"bench-{int(time.time())}")
    bench = BenchRun(options)
    bench.results.update(
        scale_events=options.scale_events,
        days=options.days,
        data_source="generated + ingested" if options.end_to_end else "synthetic (micro-benchmarks only)",
        cpu_count=os.cpu_count(),
        started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        command=" ".join(["lakehouse-dev", *sys.argv[1:]]) if sys.argv else "lakehouse-dev bench",
    )
    with RssSampler(sample_interval) as sampler:
        try:
            extra = kafka_spark_conf(settings) if options.kafka and options.end_to_end else None
            _, spark = bench.timed("spark start", lambda: get_spark("lakehouse-bench", extra))
            bench.results["spark_version"] = spark.version
            if options.end_to_end:
                run_end_to_end(bench, spark, settings)
                if options.kafka:
                    run_kafka_ingest(bench, spark, settings)
            if not (options.only_end_to_end or options.ingest_only):
                if options.end_to_end:
                    run_incremental(bench, spark, settings)
                    run_dbt_vs_handwritten(bench, spark)
                run_micro(bench, spark)
            table_format_name = os.environ.get(table_format.ENV_RESOLVED, "parquet")
            bench.results["table_format"] = table_format_name
        except BaseException as exc:  # keep what was measured before the failure (an hour at 10M)
            bench.results.update(error=one_line(exc), peak_rss_mb=sampler.peaks_mb())
            saved = report.write_results(bench.results, results_dir())
            if isinstance(exc, LakehouseError | KeyboardInterrupt):
                raise
            stage = bench.results.get("failed_stage", "the benchmark")
            raise LakehouseError(
                f"{stage} failed: {bench.results['error']} (what was measured before is in {saved})"
            ) from exc
    bench.results["peak_rss_mb"] = sampler.peaks_mb()
    if (
        options.end_to_end
        and options.compare_parquet
        and not (options.only_end_to_end or options.ingest_only)
    ):
        if bench.results["table_format"] == "delta":
            stop_spark()  # its memory and metastore lock, before the comparison's own JVM starts
            try:
                compare_with_parquet(bench, settings)
            except Exception as exc:  # what Delta measured stands; say why the ratio is missing
                bench.results["parquet_comparison_error"] = one_line(exc)
                print(f"warning: {one_line(exc)}", file=sys.stderr)
        else:
            bench.results["delta_vs_parquet_end_to_end_ratio"] = None  # the run itself is on Parquet
    bench.results["targets"] = report.target_verdicts(bench.results)
    out = results_dir()
    bench.results["results_json"] = str(report.write_results(bench.results, out))
    bench.results["chart_png"] = str(report.draw_chart(bench.results, sampler.samples, out / "bench.png"))
    report.write_results(bench.results, out)
    # each scale's newest run, for docs/performance.md (bench/document.py); an ingest-only run
    # measures two stages and would hide the scale's full run
    if not options.ingest_only:
        (out / f"results-{options.scale_events}.json").write_text((out / "results.json").read_text())
    return bench.results
