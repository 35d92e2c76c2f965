"""What only Delta does, on the tables `lakehouse run` built: published versions and restore by time
travel, OPTIMIZE and VACUUM, the CDC MERGE that applies deletes, table statistics in the docs.

These tests write to the shared warehouse, so they are ordered after every other test
(`mutates_warehouse`, see conftest.py). On Parquet they are skipped, with the reason. The docs
catalog's Delta statistics are checked in test_pipeline.py, on the warehouse as built.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from lakehouse import dbt_runner, delta
from lakehouse.cli import main
from lakehouse.config import Settings
from lakehouse.spark import runtime_conf
from tests.conftest import BuiltProject

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.mutates_warehouse]


@pytest.fixture(scope="module")
def summary(built_project: BuiltProject) -> dict[str, Any]:
    if built_project.summary["table_format"] != "delta":
        pytest.skip(f"Delta only; this run is on {built_project.summary['table_format']}")
    assert built_project.exit_code == 0, built_project.summary.get("failed_checks")
    return built_project.summary


def rows_of(spark: SparkSession, table: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(row) for row in spark.table(table).collect())


def data_files(spark: SparkSession, table: str) -> list[Path]:
    location = spark.sql(f"describe detail {table}").first()["location"]
    root = Path(location.removeprefix("file:"))
    return [p for p in root.rglob("*.parquet") if "_delta_log" not in p.parts]


def test_every_published_table_has_its_delta_version_recorded(
    summary: dict[str, Any], spark: SparkSession
) -> None:
    versions = summary["published_versions"]
    published = {view.removeprefix("serving.") for view in summary["published_views"]}
    assert {table.rpartition(".")[2] for table in versions} == published
    recorded = {
        (row.table_name, row.version)
        for row in spark.table(delta.PUBLISHED_VERSIONS_TABLE)
        .where(f"run_id = '{summary['run_id']}'")
        .collect()
    }
    assert recorded == set(versions.items())
    for table, version in versions.items():
        assert delta.table_version(spark, table) >= version >= 0


def test_a_bad_publish_is_undone_by_one_restore_command(
    summary: dict[str, Any],
    built_project: BuiltProject,
    spark: SparkSession,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A publish of wrong figures (every check passed) is undone with `lakehouse restore`: the mart
    goes back to the previous publish's rows, and its serving view, pinned to the bad version, is
    pinned again to the restored one."""
    from lakehouse.validate.publish import publish

    table, view = "marts.fct_daily_funnel", "serving.fct_daily_funnel"
    good = rows_of(spark, table)
    assert rows_of(spark, view) == good
    # the newest run that published the good version (tests before this one may publish it again)
    good_version = summary["published_versions"][table]
    good_run = spark.sql(
        f"select run_id from {delta.PUBLISHED_VERSIONS_TABLE} where table_name = '{table}' "
        f"and version = {good_version} order by published_at desc limit 1"
    ).first()[0]
    spark.sql(f"update {table} set sessions = sessions * 100, conversion_rate = 0")
    manifest = json.loads((built_project.target / "manifest.json").read_text())
    bad = publish(spark, manifest, [], "bad-publish", "ci")
    assert bad.versions[table] > summary["published_versions"][table]
    assert rows_of(spark, view) != good

    capsys.readouterr()
    assert main(["restore", table, "--target", "ci"]) == 0
    said = capsys.readouterr().out.strip().splitlines()[-1]
    restored_version = delta.table_version(spark, table)
    assert said == (
        f"{table}: restored to version {good_version}, published by run "
        f"{good_run}; it was at version {bad.versions[table]}; {view} now serves it "
        f"(version {restored_version})"
    )
    assert rows_of(spark, table) == good
    assert rows_of(spark, view) == good
    assert spark.sql(f"describe history {table} limit 1").first()["operation"] == "RESTORE"


def test_restore_refuses_what_it_cannot_do(summary: dict[str, Any], spark: SparkSession) -> None:
    from lakehouse.errors import LakehouseError

    with pytest.raises(LakehouseError, match="is not an earlier version"):
        delta.restore(spark, "marts.fct_daily_funnel", version=10_000)
    with pytest.raises(LakehouseError, match="is not a table"):
        delta.restore(spark, "serving.fct_daily_funnel")
    with pytest.raises(LakehouseError, match="is not a table"):
        delta.restore(spark, "marts.no_such_mart")


def test_optimize_compacts_and_vacuum_removes_the_replaced_files(
    summary: dict[str, Any], spark: SparkSession
) -> None:
    """fct_events is fragmented (its rows rewritten into many small files), then the two
    run-operations run: OPTIMIZE leaves fewer files, VACUUM (retention 0 hours) deletes every data
    file the table no longer references, and the rows never change."""
    table = "marts.fct_events"
    before = rows_of(spark, table)
    # the table asks for optimized writes and auto compaction, which would undo the fragmenting
    no_compaction = {
        "spark.databricks.delta.optimizeWrite.enabled": "false",
        "spark.databricks.delta.autoCompact.enabled": "false",
    }
    with runtime_conf(spark, no_compaction):
        spark.table(table).repartition(24).write.format("delta").mode("overwrite").saveAsTable(table)
    fragmented = spark.sql(f"describe detail {table}").first()["numFiles"]
    assert fragmented >= 24

    assert dbt_runner.invoke(["run-operation", "optimize_delta_tables"], "ci").success
    compacted = spark.sql(f"describe detail {table}").first()["numFiles"]
    assert compacted < fragmented
    assert spark.sql(f"describe history {table} limit 1").first()["operation"] == "OPTIMIZE"
    assert rows_of(spark, table) == before

    on_disk = len(data_files(spark, table))
    assert on_disk > compacted  # the replaced files are still there, for time travel
    assert dbt_runner.invoke(["run-operation", "vacuum_delta_tables"], "ci").success  # 168 hours
    assert len(data_files(spark, table)) == on_disk  # nothing is that old yet
    spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    try:
        args = ["run-operation", "vacuum_delta_tables", "--args", "{retain_hours: 0}"]
        assert dbt_runner.invoke(args, "ci").success
    finally:
        spark.conf.unset("spark.databricks.delta.retentionDurationCheck.enabled")
    assert len(data_files(spark, table)) == compacted
    assert rows_of(spark, table) == before


def land(settings: Settings, feed: str, name: str, records: list[dict[str, Any]]) -> None:
    """A landing file with its producer manifest, as the generator writes them."""
    relative = Path(feed) / "arrival_date=2026-03-20" / name
    path = settings.landing_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    manifest = settings.landing_dir / "_manifests" / relative.parent / f"{name}.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"feed": feed, "file": relative.as_posix(), "lines": len(records)}))


def user_change(op: str, user_id: str, lsn: int, country: str | None = None) -> dict[str, Any]:
    state = {"user_id": user_id, "email": f"{user_id}@example.com", "country_code": country}
    return {
        "op": op,
        "before": state if op == "d" else None,
        "after": None if op == "d" else state,
        "source": {"lsn": lsn, "ts_ms": 1_774_000_000_000 + lsn},
    }


def test_cdc_merge_applies_deletes_out_of_order_and_duplicate_changes(
    summary: dict[str, Any], spark: SparkSession
) -> None:
    """Change batches are ingested and applied by `int_user_changes_applied`'s incremental MERGE:
    an update that arrives before its create, a change delivered twice, a delete, and an update
    older than that delete arriving after it. The table ends as a full rebuild from the log says."""
    from lakehouse.ingest.bronze import ingest

    settings = Settings.from_env()
    table = "intermediate.int_user_changes_applied"
    select = ["run", "--select", "stg_cdc__user_changes", "int_user_changes_applied"]

    def apply(name: str, records: list[dict[str, Any]]) -> dict[str, str | None]:
        land(settings, "cdc_users", name, records)
        assert ingest(spark, settings).reconciled
        assert dbt_runner.invoke(select, "ci").success
        assert spark.sql(f"describe history {table} limit 1").first()["operation"] == "MERGE"
        rows = spark.sql(f"select user_id, country_code from {table} where user_id like 'u_merge_%'")
        return {row.user_id: row.country_code for row in rows.collect()}

    first = [
        user_change("u", "u_merge_a", 900_002, "FR"),  # overtakes its create
        user_change("c", "u_merge_a", 900_001, "DE"),
        user_change("c", "u_merge_b", 900_003, "IT"),
        user_change("c", "u_merge_b", 900_003, "IT"),  # delivered twice
        user_change("c", "u_merge_c", 900_004, "ES"),
    ]
    assert apply("merge-test-1.jsonl", first) == {"u_merge_a": "FR", "u_merge_b": "IT", "u_merge_c": "ES"}
    second = [
        user_change("d", "u_merge_b", 900_010),
        user_change("u", "u_merge_c", 900_011, "PT"),
        user_change("u", "u_merge_c", 900_011, "PT"),  # the same change again
    ]
    assert apply("merge-test-2.jsonl", second) == {"u_merge_a": "FR", "u_merge_c": "PT"}
    stale = [user_change("u", "u_merge_b", 900_009, "GR")]  # older than the delete, arrives after it
    assert apply("merge-test-3.jsonl", stale) == {"u_merge_a": "FR", "u_merge_c": "PT"}

    merged = rows_of(spark, table)
    assert dbt_runner.invoke([*select, "--full-refresh"], "ci").success
    assert rows_of(spark, table) == merged
