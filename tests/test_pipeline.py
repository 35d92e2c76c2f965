"""`lakehouse run` end to end in this process: the same steps `make run` runs, on the test's own state."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as sf

from lakehouse.recommend.evaluation import BASELINES, MODEL_RECOMMENDER, MODELS
from tests.conftest import BuiltProject

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def run_summary(built_project: BuiltProject) -> dict[str, object]:
    assert built_project.exit_code == 0, built_project.summary.get("failed_checks")
    return {**built_project.summary, "_target": str(built_project.target)}


def test_run_summary_has_the_required_keys(run_summary: dict[str, object]) -> None:
    for key in ("table_format", "models_built", "tests_passed", "tests_failed", "wall_seconds"):
        assert key in run_summary
    assert run_summary["tests_failed"] == 0
    assert run_summary["failed_checks"] == []
    assert run_summary["tests_warned"] == []


def test_every_relationship_is_an_error_and_holds(
    run_summary: dict[str, object], spark: SparkSession
) -> None:
    """The dimensions keep deleted members and infer the ones facts mention before their feed
    delivers them, so no fact may point at a missing member: every relationship test is an error."""
    manifest = json.loads((Path(str(run_summary["_target"])) / "manifest.json").read_text())
    relationships = [
        node
        for node in manifest["nodes"].values()
        if node.get("test_metadata", {}).get("name") == "relationships"
    ]
    assert len(relationships) >= 6
    assert {node["config"]["severity"].lower() for node in relationships} == {"error"}
    inferred = spark.sql("select count(*) from marts.dim_users where is_inferred").first()[0]
    missing = spark.sql(
        "select count(distinct user_id) from staging.stg_clickstream__events as e "
        "where user_id is not null and not exists "
        "(select 1 from intermediate.int_user_changes_historized as h where h.user_id = e.user_id)"
    ).first()[0]
    assert inferred >= missing > 0  # the sample has users whose first change arrives late


def test_the_run_is_on_delta_when_setup_installed_its_connector(run_summary: dict[str, object]) -> None:
    """`make test` runs the suite on Delta (the connector from `make setup`), then on Parquet."""
    from lakehouse import connectors

    forced = os.environ.get("LAKEHOUSE_TABLE_FORMAT", "auto")
    installed = connectors.installed_jars("delta") is not None
    expected = forced if forced != "auto" else ("delta" if installed else "parquet")
    assert run_summary["table_format"] == expected


def test_the_pii_salt_hashes_and_is_written_nowhere(
    run_summary: dict[str, object], built_project: BuiltProject, spark: SparkSession
) -> None:
    """The suite's random salt made the hashes (a staged email hash equals SHA-256 of salt|email
    computed here), and no file of the run holds it: not the compiled SQL, manifest or run results,
    the docs site or dbt's logs, nor the warehouse, its Delta logs or the metastore."""
    from lakehouse.config import Settings

    salt = os.environ["LAKEHOUSE_PII_SALT"]
    assert salt.startswith("suite-salt-")
    email = spark.sql(
        "select after.email from bronze.cdc_users where after.email is not null order by lsn limit 1"
    ).first()[0]
    expected = hashlib.sha256(f"{salt}|{email.strip().lower()}".encode()).hexdigest()
    hashed = spark.sql(f"select count(*) from staging.stg_cdc__user_changes where email_hash = '{expected}'")
    assert hashed.first()[0] >= 1
    roots = [built_project.target, built_project.target.parent / "logs", Settings.from_env().home]
    searched = 0
    for root in roots:
        for path in (p for p in root.rglob("*") if p.is_file()):
            assert salt.encode() not in path.read_bytes(), path
            searched += 1
    assert searched > 100  # the artifacts, the logs and the warehouse were there to search


def test_the_recommender_is_above_every_baseline_on_the_default_sample(
    run_summary: dict[str, object],
) -> None:
    """The claim of docs/recommendations.md on the sample `make run` builds: every model evaluated
    over at least 3 days with intervals, and the recommender's hit rate@10 above each baseline's."""
    assert int(str(run_summary["reco_eval_days"])) >= 3
    assert run_summary["reco_quality_gated"] is True
    reco = float(str(run_summary["reco_hit_rate_at_10"]))
    for baseline in BASELINES:
        low, high = run_summary[f"{baseline}_hit_rate_at_10_ci"]  # type: ignore[misc]
        assert low <= float(str(run_summary[f"{baseline}_hit_rate_at_10"])) <= high
        assert reco > float(str(run_summary[f"{baseline}_hit_rate_at_10"])), baseline


def test_sql_and_python_models_were_built(run_summary: dict[str, object]) -> None:
    results = json.loads((Path(str(run_summary["_target"])) / "run_results.json").read_text())
    manifest = json.loads((Path(str(run_summary["_target"])) / "manifest.json").read_text())
    # run_results.json is rewritten by `docs generate`; count languages from the manifest instead
    # every model but the serving views, which the publish step builds after the checks
    built = {
        n["unique_id"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and "serving" not in n["tags"]
    }
    languages = {n["language"] for n in built.values()}
    assert languages == {"sql", "python"}
    assert int(str(run_summary["models_built"])) == len(built)
    assert results["args"]["which"] == "generate"  # the docs step ran last


def test_docs_catalog_lists_python_model_columns(run_summary: dict[str, object], spark: SparkSession) -> None:
    catalog = json.loads((Path(str(run_summary["_target"])) / "catalog.json").read_text())
    dates = next(node for uid, node in catalog["nodes"].items() if uid.endswith(".dim_dates"))
    assert {"date_day", "day_of_week", "is_weekend"} <= set(dates["columns"])
    fmt = run_summary["table_format"]
    rows = spark.sql(f"describe formatted {dates['metadata']['schema']}.dim_dates").collect()
    provider = {r.col_name: r.data_type for r in rows}.get("Provider")
    assert provider == fmt


def test_docs_catalog_shows_delta_row_counts_and_sizes(
    run_summary: dict[str, object], built_project: BuiltProject, spark: SparkSession
) -> None:
    """dbt-spark reads row counts from metastore statistics, which Delta tables do not have: the
    catalog used to say 0 rows for every table. Now every model table has its rows, bytes and files."""
    if run_summary["table_format"] != "delta":
        pytest.skip("Delta tables only")
    catalog = json.loads((built_project.target / "catalog.json").read_text())
    tables = {
        f"{node['metadata']['schema']}.{node['metadata']['name']}": node["stats"]
        for uid, node in catalog["nodes"].items()
        if uid.startswith("model.") and node["metadata"]["type"] != "view"
    }
    assert "marts.fct_events" in tables
    for table, stats in tables.items():
        assert stats["rows"]["value"] == spark.table(table).count(), table
        assert stats["bytes"]["value"] > 0, table
        assert stats["files"]["value"] >= 1, table


def test_incremental_watermark_compiles_to_a_literal_parquet_can_skip_by(
    run_summary: dict[str, object], spark: SparkSession, pipeline_target: str
) -> None:
    """On a built warehouse an incremental model compiles its watermark to the newest value in its
    table, a literal Spark pushes into the Parquet scan, instead of a subquery read at run time."""
    from lakehouse import dbt_runner

    assert dbt_runner.invoke(["compile", "--select", "stg_clickstream__events"], "ci").success
    compiled = next(Path(pipeline_target).glob("compiled/**/stg_clickstream__events.sql")).read_text()
    newest_sql = "select max(unix_micros(_ingested_at)) from staging.stg_clickstream__events"
    newest = spark.sql(newest_sql).first()[0]
    assert f"_ingested_at > timestamp_micros({newest})" in compiled
    assert "select max(this_table" not in compiled
    plan = spark.sql(compiled)._jdf.queryExecution().executedPlan().toString()
    bronze_scans = [line for line in plan.splitlines() if "bronze.events[" in line]
    pushed = re.compile(r"PushedFilters: \[[^\]]*GreaterThan\(_ingested_at,")
    assert any(pushed.search(scan) for scan in bronze_scans), bronze_scans


def test_rebuilt_dates_compile_to_literals_so_an_idle_run_reads_nothing(
    run_summary: dict[str, object], spark: SparkSession, pipeline_target: str
) -> None:
    """On a built warehouse with nothing new, the dates an incremental model would rebuild compile to
    an empty literal list (not an `in (subquery)` Spark evaluates while reading every partition), so
    fct_events and int_events_sessionized plan no scan at all."""
    from lakehouse import dbt_runner

    models = (
        "fct_events",
        "fct_daily_user_activity",
        "int_visitor_days_classified",
        "int_events_sessionized",
    )
    assert dbt_runner.invoke(["compile", "--select", *models], "ci").success
    compiled = {m: next(Path(pipeline_target).glob(f"compiled/**/{m}.sql")).read_text() for m in models}
    for model, sql in compiled.items():
        assert re.search(r"event_date in \(\s*cast\(null as date\)\s*\)", sql), model
    # the late-product check against its own rows ran at compile time, not in the model's query
    assert "marts.fct_events" not in compiled["fct_events"]
    for model in ("fct_events", "int_events_sessionized"):
        plan = spark.sql(compiled[model])._jdf.queryExecution().executedPlan().toString()
        assert plan.startswith("LocalTableScan <empty>"), f"{model}: {plan[:500]}"


def test_reco_evaluation_keeps_its_rows_until_a_full_refresh(
    run_summary: dict[str, object], spark: SparkSession, pipeline_target: str
) -> None:
    """With fct_events not rebuilt since, a `dbt run` keeps reco_evaluation's rows instead of
    evaluating again (marked here, so keeping them shows); `--full-refresh` evaluates again, to the
    same rows as the build."""
    from lakehouse import dbt_runner

    table = "features.reco_evaluation"
    built = spark.table(table).orderBy("model_name").collect()
    assert len(built) == len(MODELS)
    spark.table(table).withColumn("hit_rate", sf.lit(-1.0)).localCheckpoint().write.insertInto(
        table, overwrite=True
    )
    try:
        assert dbt_runner.invoke(["run", "--select", "reco_evaluation"], "ci").success
        assert [row.hit_rate for row in spark.table(table).collect()] == [-1.0] * len(MODELS)
    finally:
        assert dbt_runner.invoke(["run", "--select", "reco_evaluation", "--full-refresh"], "ci").success
    assert spark.table(table).orderBy("model_name").collect() == built


def test_event_coverage_test_finds_lost_changed_and_unsessioned_events(
    run_summary: dict[str, object], spark: SparkSession
) -> None:
    """The singular test `assert_every_human_event_in_one_session` compares the layers by
    checksums per date and sessions by their spans: it passes on the built warehouse and names
    the date, the session or the event when fct_events or fct_sessions is tampered with."""
    target = Path(str(run_summary["_target"]))
    sql = next(target.glob("compiled/**/assert_every_human_event_in_one_session.sql")).read_text()
    assert "marts.fct_events" in sql
    assert "marts.fct_sessions" in sql

    def failures(events: DataFrame, sessions: DataFrame) -> list[Row]:
        events.createOrReplaceTempView("tampered_events")
        sessions.createOrReplaceTempView("tampered_sessions")
        tampered = sql.replace("marts.fct_events", "tampered_events")
        return spark.sql(tampered.replace("marts.fct_sessions", "tampered_sessions")).collect()

    events, sessions = spark.table("marts.fct_events"), spark.table("marts.fct_sessions")
    assert failures(events, sessions) == []

    session = sessions.where("session_end > session_start").orderBy("session_id").first()
    last_event = (
        events.where(sf.col("session_id") == session["session_id"]).orderBy(sf.desc("event_ts")).first()
    )
    lost_date = last_event["event_date"]
    is_last = sf.col("event_id") == last_event["event_id"]

    lost = failures(events.where(~is_last), sessions)
    assert [(r["event_date"], r["staged_events"] - r["fact_events"]) for r in lost] == [(lost_date, 1)]

    other_visitor = sf.when(is_last, sf.lit("someone else")).otherwise(sf.col("visitor_id"))
    moved = failures(events.withColumn("visitor_id", other_visitor), sessions)
    assert any(r["event_date"] == lost_date and r["staged_events"] == r["fact_events"] for r in moved)
    assert ("someone else", 0) in [(r["visitor_id"], r["containing_sessions"]) for r in moved]

    ended_early = sessions.withColumn(
        "session_end",
        sf.when(sf.col("session_id") == session["session_id"], sf.col("session_start")).otherwise(
            sf.col("session_end")
        ),
    )
    assert [(r["session_id"], r["containing_sessions"]) for r in failures(events, ended_early)] == [
        (session["session_id"], 0)
    ]

    unsessioned = failures(events.withColumn("session_id", sf.when(~is_last, sf.col("session_id"))), sessions)
    assert last_event["event_id"] in [r["event_id"] for r in unsessioned]


def test_the_summary_reports_what_the_run_did(run_summary: dict[str, Any], spark: SparkSession) -> None:
    """The figures that matter, against the tables themselves: nothing lost per feed, every kind of
    dirt quarantined with its reason, what was published, the expectations and the recommender."""
    feeds = {
        "events": "bronze.events",
        "cdc_users": "bronze.cdc_users",
        "cdc_products": "bronze.cdc_products",
    }
    feeds["cdc_orders"] = "bronze.cdc_orders"
    quarantine = spark.table("bronze.quarantine")
    for feed, table in feeds.items():
        landed, bronze, quarantined = (
            run_summary[f"{feed}_{kind}"] for kind in ("landed", "bronze", "quarantined")
        )
        assert landed == bronze + quarantined > 0, feed
        assert bronze == spark.table(table).count(), feed
        assert quarantined == quarantine.where(sf.col("feed") == feed.removeprefix("cdc_")).count(), feed
    reasons = run_summary["quarantine_reasons"]
    assert sum(reasons.values()) == quarantine.count()
    for reason in ("malformed_json", "wrong_type", "missing_required_field", "invalid_utf8"):
        assert reasons[f"events:{reason}"] > 0, reason

    assert run_summary["published"] is True
    # temporary views (other tests', dbt's) are listed under every database: tables only
    views = {f"serving.{t.name}" for t in spark.catalog.listTables("serving") if not t.isTemporary}
    assert set(run_summary["published_views"]) == views
    assert len(views) >= 7

    audited = spark.table("audit.check_results").where(f"run_id = '{run_summary['run_id']}'")
    expectations = audited.where("source = 'great_expectations'")
    assert run_summary["expectations_passed"] == expectations.where("status = 'pass'").count() > 0
    assert run_summary["expectations_failed"] == expectations.where("status != 'pass'").count() == 0

    evaluation = {row.model_name: row for row in spark.table("features.reco_evaluation").collect()}
    reco = evaluation[MODEL_RECOMMENDER]
    assert run_summary["reco_users_evaluated"] == reco.users_evaluated
    assert run_summary["reco_hit_rate_at_10"] == pytest.approx(reco.hit_rate, abs=1e-4)


def test_no_raw_email_ip_or_name_beyond_bronze(run_summary: dict[str, Any], spark: SparkSession) -> None:
    """Raw e-mail addresses, IP addresses and names stop at bronze: no string column of any table
    or view in staging and the layers after it holds one of the values bronze received."""
    raw = spark.sql(
        """
        select after.email as value from bronze.cdc_users where after.email is not null
        union select after.full_name from bronze.cdc_users where after.full_name is not null
        union select ip_address from bronze.events where ip_address is not null
        """
    ).distinct()
    raw.cache().createOrReplaceTempView("raw_pii")
    assert raw.count() > 100
    checked = 0
    for schema in ("staging", "intermediate", "marts", "features", "serving"):
        for table in spark.catalog.listTables(schema):
            if table.isTemporary:  # listed under every database; dbt's and other tests' views
                continue
            name = f"{schema}.{table.name}"
            columns = [
                f.name for f in spark.table(name).schema.fields if f.dataType.simpleString() == "string"
            ]
            if not columns:
                continue
            matches = " or ".join(f"t.`{column}` = raw_pii.value" for column in columns)
            leaked = spark.sql(f"select count(*) from {name} as t join raw_pii on {matches}").first()[0]
            assert leaked == 0, name
            checked += 1
    raw.unpersist()
    assert checked >= 20
