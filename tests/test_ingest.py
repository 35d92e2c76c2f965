"""Bronze ingestion on real Spark: nothing lost, nothing twice, every bad line quarantined with
its reason, drift kept, new landing days picked up incrementally."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from uuid import uuid4

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as sf

from lakehouse import table_format
from lakehouse.config import Settings
from lakehouse.contracts import cdc, events
from lakehouse.contracts import landing as landing_layout
from lakehouse.contracts.schema import Contract, Field
from lakehouse.errors import LakehouseError
from lakehouse.ingest import IngestResult, ingest, parse, tables
from lakehouse.ingest.bronze import FeedCounts, _number_sent_as_string, batch_writer
from lakehouse_dev.generate import GenerationResult, generate

pytestmark = pytest.mark.spark
FEEDS = ("events", "cdc_users", "cdc_products", "cdc_orders")
FORMAT = table_format.resolve(Settings.from_env()).name  # the run's: Delta in `make test`, then Parquet


@dataclass
class Ingested:
    settings: Settings
    database: str
    generated: GenerationResult
    first: IngestResult
    second: IngestResult
    new_day: GenerationResult
    third: IngestResult


@pytest.fixture(scope="module")
def ingested(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    """Land 2 days, ingest, ingest again, land a third day, ingest again (one landing zone)."""
    settings = replace(Settings.from_env(), home=tmp_path_factory.mktemp("ingest-home"))
    database = f"bronze_test_{uuid4().hex[:8]}"
    landing = settings.landing_dir
    generated = generate(
        scale_events=3_000, days=2, seed=5, out_dir=landing, malformed_rate=0.004, string_number_rate=0.2
    )
    first = ingest(spark, settings, database=database)
    second = ingest(spark, settings, database=database)
    new_day = generate(scale_events=1_000, days=1, seed=6, out_dir=landing, start_date=date(2026, 3, 4))
    third = ingest(spark, settings, database=database)
    return Ingested(settings, database, generated, first, second, new_day, third)


def test_landed_lines_equal_bronze_plus_quarantined(ingested: Ingested) -> None:
    generated, first = ingested.generated, ingested.first
    for feed in FEEDS:
        counts = first.feeds[feed]
        assert counts.landed == generated.lines[feed]
        assert counts.landed == counts.bronze + counts.quarantined
        assert counts.added_bronze + counts.added_quarantined == counts.landed
    events = first.feeds["events"]
    assert events.quarantined == sum(generated.malformed.values()) > 0
    assert first.summary()["events_landed"] == events.landed
    assert first.summary()["ingest_reconciled"] is True


def test_second_ingest_adds_nothing(ingested: Ingested) -> None:
    for feed in FEEDS:
        before, after = ingested.first.feeds[feed], ingested.second.feeds[feed]
        assert after.added_bronze == after.added_quarantined == 0
        assert (after.bronze, after.quarantined, after.landed) == (
            before.bronze,
            before.quarantined,
            before.landed,
        )


def test_new_landing_day_is_picked_up_incrementally(spark: SparkSession, ingested: Ingested) -> None:
    third, new_day = ingested.third, ingested.new_day
    for feed in FEEDS:
        counts = third.feeds[feed]
        assert counts.added_bronze + counts.added_quarantined == new_day.lines[feed]
        assert counts.landed == ingested.generated.lines[feed] + new_day.lines[feed]
        assert counts.reconciled
    batches = spark.table(f"{ingested.database}.events").groupBy("_batch_id").count().collect()
    assert {r["_batch_id"] for r in batches} == {0, 1}  # one batch per run that found new files


def test_each_generated_malformation_lands_in_quarantine_with_its_reason(ingested: Ingested) -> None:
    made = ingested.generated.malformed
    reasons = ingested.first.quarantine_reasons
    assert reasons["events:malformed_json"] == made["truncated_json"]
    assert reasons["events:wrong_type"] == made["wrong_type"]
    assert reasons["events:missing_required_field"] == made["missing_required_field"]
    assert reasons["events:invalid_utf8"] == made["invalid_utf8"]


def test_invalid_utf8_line_is_kept_byte_for_byte(spark: SparkSession, ingested: Ingested) -> None:
    row = (
        spark.table(f"{ingested.database}.quarantine")
        .filter("reason = 'invalid_utf8'")
        .select(sf.hex(sf.col("raw_line").cast("binary")).alias("raw"), "_source_file")
        .first()
    )
    assert row is not None
    raw = bytes.fromhex(row["raw"])
    assert b"\xc3\x28" in raw
    landed = (ingested.settings.landing_dir / row["_source_file"]).read_bytes().splitlines()
    assert raw in landed


def test_bronze_rows_are_typed_and_keep_drift(spark: SparkSession, ingested: Ingested) -> None:
    events = spark.table(f"{ingested.database}.events")
    dtypes = dict(events.dtypes)
    assert (dtypes["event_ts"], dtypes["quantity"], dtypes["price"], dtypes["_batch_id"]) == (
        "timestamp",
        "int",
        "double",
        "bigint",
    )
    drift = ingested.first.drift
    assert drift["contract_v2_rows"] > 0
    assert drift["extra_fields"]["experiment_id"] == drift["rows_with_extra_fields"] > 0
    assert drift["numbers_sent_as_strings_this_run"] > 0
    # numbers sent as JSON strings were cast, not lost
    commerce = events.filter("event_type in ('add_to_cart', 'purchase')")
    assert commerce.filter("quantity is null or price is null").count() == 0
    # app_version (v2) starts part-way through a generation: all of it after all of its v1 records
    generation = events.filter(sf.col("_source_file").contains(ingested.generated.tag))
    first_v2 = generation.filter("app_version is not null").agg(sf.min("event_ts")).first()[0]
    last_v1 = generation.filter("app_version is null").agg(sf.max("event_ts")).first()[0]
    assert last_v1 < first_v2
    extra = events.filter("_extra_fields is not null").select("_extra_fields").first()
    assert extra is not None
    assert set(json.loads(extra[0])) == {"experiment_id"}


def test_numbers_sent_as_strings_are_told_from_numbers(spark: SparkSession) -> None:
    lines = ['{"price":"9.5","quantity":2}', '{"quantity":"2"}', '{"price":9.5}', '{"q":"price"}']
    flags = spark.createDataFrame([(line,) for line in lines], "line string").select(
        _number_sent_as_string(sf.col("line"))
    )
    assert [row[0] for row in flags.collect()] == [True, True, False, False]


def test_source_file_and_arrival_date_come_from_the_landing_path(
    spark: SparkSession, ingested: Ingested
) -> None:
    rows = (
        spark.table(f"{ingested.database}.events").groupBy("_source_file", "_arrival_date").count().collect()
    )
    manifests = {
        json.loads(p.read_text())["file"]: json.loads(p.read_text())
        for p in (ingested.settings.landing_dir / "_manifests" / "events").glob("*/*.json")
    }
    for row in rows:
        manifest = manifests[row["_source_file"]]
        assert manifest["arrival_date"] == row["_arrival_date"].isoformat()
        assert row["count"] <= manifest["lines"]


def test_orders_feed_matches_purchase_events_in_bronze(spark: SparkSession, ingested: Ingested) -> None:
    db = ingested.database
    purchases = spark.table(f"{db}.events").filter("event_type = 'purchase'").dropDuplicates(["event_id"])
    created = spark.table(f"{db}.cdc_orders").filter("op = 'c'").select("after.*")
    joined = purchases.join(created, "order_id", "full_outer")
    assert joined.filter("event_id is null or created_at is null").count() == 0
    mismatched = joined.filter("abs(order_total - round(quantity * price, 2)) > 0.001")
    assert mismatched.count() == 0
    assert created.count() == ingested.generated.orders + ingested.new_day.orders


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def reasons_of(spark: SparkSession, path: Path, parse_lines: object) -> list[str | None]:
    lines = spark.read.text(str(path)).coalesce(1).withColumn("_line", sf.monotonically_increasing_id())
    parsed = parse_lines(lines)  # type: ignore[operator]
    return [r[parse.REASON] for r in parsed.orderBy("_line").select(parse.REASON).collect()]


VALID = b'{"event_id":"e1","event_type":"page_view","event_ts":"2026-03-02T10:00:00.000Z","anonymous_id":"a1"'


def test_each_quarantine_reason_on_handwritten_event_lines(spark: SparkSession, tmp_path: Path) -> None:
    lines = [
        VALID + b"}",
        VALID,  # truncated
        b"[1, 2, 3]",  # JSON, but not an object
        b'{"event_id":"e2","event_type":"page_view","anonymous_id":"a1"}',
        VALID + b',"quantity":"lots"}',
        VALID.replace(b"page_view", b"teleport") + b"}",
        VALID.replace(b'"a1"', b'"a\xff\xfe1"') + b"}",
        VALID + b',"quantity":"3","price":"9.5","app_version":"web-3.2.0","coupon":"SPRING"}',
    ]
    path = write_lines(tmp_path / "events" / "arrival_date=2026-03-02" / "hand.jsonl", lines)
    assert reasons_of(spark, path, parse.parse_events) == [
        None,
        "malformed_json",
        "malformed_json",
        "missing_required_field:event_ts",
        "wrong_type:quantity",
        "invalid_value:event_type",
        "invalid_utf8",
        None,
    ]
    last = parse.parse_events(spark.read.text(str(path))).filter("_extra_fields is not null").first()
    assert last is not None
    assert (last["quantity"], last["price"], last["app_version"]) == (3, 9.5, "web-3.2.0")
    assert json.loads(last["_extra_fields"]) == {"coupon": "SPRING"}


def test_an_object_or_array_in_a_string_field_is_the_wrong_type(spark: SparkSession, tmp_path: Path) -> None:
    """Read as a string, `{"nested":[1,2]}` would load as its JSON text: every string field of the
    contract quarantines an object or an array. A string holding JSON text and a number sent for a
    string stay valid."""
    nested = b'{"nested":[1,2]}'
    lines = [
        VALID.replace(b'"e1"', nested) + b"}",
        VALID.replace(b'"a1"', b"[1,2]") + b"}",
        VALID + b',"user_id":' + nested + b"}",
        VALID + b',"page_url":{"path":"/"}}',
        VALID + b',"page_url":"{\\"not\\": \\"nested\\"}","user_id":42}',
    ]
    path = write_lines(tmp_path / "events" / "arrival_date=2026-03-02" / "nested.jsonl", lines)
    assert reasons_of(spark, path, parse.parse_events) == [
        "wrong_type:event_id",
        "wrong_type:anonymous_id",
        "wrong_type:user_id",
        "wrong_type:page_url",
        None,
    ]
    valid = parse.parse_events(spark.read.text(str(path))).filter(f"{parse.REASON} is null").first()
    assert (valid["page_url"], valid["user_id"]) == ('{"not": "nested"}', "42")

    source = b'"source":{"lsn":1000,"ts_ms":1}'
    changes = [
        b'{"before":null,"after":{"user_id":"u1","email":["a@b.c"]},' + source + b',"op":"c"}',
        b'{"before":{"user_id":{"id":"u1"}},"after":null,' + source + b',"op":"d"}',
    ]
    path = write_lines(tmp_path / "cdc_users" / "arrival_date=2026-03-02" / "nested.jsonl", changes)
    assert reasons_of(spark, path, lambda df: parse.parse_changes(df, "users")) == [
        "wrong_type:after.email",
        "wrong_type:before.user_id",
    ]


def test_each_quarantine_reason_on_handwritten_change_lines(spark: SparkSession, tmp_path: Path) -> None:
    after = b'{"user_id":"u1","email":"a@b.c","marketing_opt_in":true,"updated_at":"2026-03-02T10:00:00Z"}'
    source = b'"source":{"lsn":1000,"ts_ms":1}'
    lines = [
        b'{"before":null,"after":' + after + b"," + source + b',"op":"c"}',
        b'{"before":' + after + b',"after":null,' + source + b',"op":"d"}',
        b'{"before":null,"after":' + after + b"," + source + b',"op":"x"}',
        b'{"before":null,"after":' + after + b',"op":"u"}',
        b'{"before":null,"after":null,' + source + b',"op":"d"}',
        b'{"before":null,"after":' + after.replace(b"true", b'"maybe"') + b"," + source + b',"op":"u"}',
        b'{"before":null,"after":' + after + b',"source":{"lsn":"abc","ts_ms":1},"op":"u"}',
        b'{"before":null,"after":' + after[:40],
    ]
    path = write_lines(tmp_path / "cdc_users" / "arrival_date=2026-03-02" / "hand.jsonl", lines)
    assert reasons_of(spark, path, lambda df: parse.parse_changes(df, "users")) == [
        None,
        None,
        "invalid_value:op",
        "missing_required_field:source.lsn",
        "missing_required_field:before.user_id",
        "wrong_type:after.marketing_opt_in",
        "wrong_type:source.lsn",
        "malformed_json",
    ]
    parsed = parse.parse_changes(spark.read.text(str(path)), "users").filter(f"{parse.REASON} is null")
    ops = {r["op"]: r for r in parsed.collect()}
    assert ops["c"]["after"]["marketing_opt_in"] is True
    assert ops["d"]["after"] is None
    assert ops["d"]["before"]["user_id"] == "u1"
    assert ops["c"]["lsn"] == 1000


def test_replaying_a_batch_overwrites_instead_of_duplicating(spark: SparkSession, tmp_path: Path) -> None:
    database = f"bronze_replay_{uuid4().hex[:8]}"
    tables.ensure_bronze(spark, FORMAT, database)
    lines = [VALID.replace(b"e1", f"e{i}".encode()) + b"}" for i in range(5)] + [VALID]
    path = write_lines(tmp_path / "events" / "arrival_date=2026-03-02" / "replay.jsonl", lines)
    batch = spark.read.text(str(path)).select("value", "_metadata")
    counts, drift = FeedCounts(), Counter[str]()
    write = batch_writer("events", counts, drift, database)
    write(batch, 3)
    write(batch, 3)  # the same micro-batch again, as after a crash before the checkpoint commit
    assert spark.table(f"{database}.events").count() == 5
    assert spark.table(f"{database}.quarantine").count() == 1
    write(batch, 4)  # a different batch id is a different delivery: it is kept
    assert spark.table(f"{database}.events").count() == 10


def test_large_batches_report_progress(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = f"bronze_progress_{uuid4().hex[:8]}"
    tables.ensure_bronze(spark, FORMAT, database)
    lines = [VALID.replace(b"e1", f"e{i}".encode()) + b"}" for i in range(3)] + [VALID]
    path = write_lines(tmp_path / "events" / "arrival_date=2026-03-02" / "batch.jsonl", lines)
    batch = spark.read.text(str(path)).select("value", "_metadata")
    counts = FeedCounts()
    batch_writer("events", counts, Counter[str](), database, progress_min_lines=5)(batch, 0)
    assert capsys.readouterr().err == ""  # 4 lines: below the threshold, quiet
    batch_writer("events", counts, Counter[str](), database, progress_min_lines=4)(batch, 1)
    assert capsys.readouterr().err == "  ingest events: batch 1: 3 rows to bronze, 1 quarantined (6 so far)\n"


def test_delta_tables_are_declared_with_the_same_layout() -> None:
    ddls = tables.table_ddls("delta", "bronze")
    assert all(" USING delta\n" in ddl for ddl in ddls)
    events = next(d for d in ddls if d.startswith("CREATE TABLE IF NOT EXISTS bronze.events ("))
    assert "PARTITIONED BY (`_batch_id`, `_arrival_date`)" in events
    assert "`_extra_fields` string" in events
    quarantine = next(d for d in ddls if "bronze.quarantine" in d)
    assert "PARTITIONED BY (`feed`, `_batch_id`, `_arrival_date`)" in quarantine


def test_a_newer_contract_adds_its_columns_and_a_type_change_stops_ingestion(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bronze tables built under contract v2 meet a v3 with a new optional field: the column is
    added (reported), rows already loaded read null, new lines load it. A field that changes type
    is not additive: one line names the table and column, and nothing is altered."""
    database = f"bronze_evolve_{uuid4().hex[:8]}"
    assert tables.ensure_bronze(spark, FORMAT, database) == {}
    path = write_lines(tmp_path / "events" / "arrival_date=2026-03-02" / "v2.jsonl", [VALID + b"}"])
    batch_writer("events", FeedCounts(), Counter[str](), database)(
        spark.read.text(str(path)).select("value", "_metadata"), 0
    )

    v3 = Contract("events", 3, (*events.EVENTS_V2.fields, Field("page_title", "string")))
    assert v3.is_additive_over(events.EVENTS_V2)
    monkeypatch.setattr(events, "LATEST_EVENTS", v3)
    assert tables.ensure_bronze(spark, FORMAT, database) == {f"{database}.events": ["page_title"]}
    assert tables.ensure_bronze(spark, FORMAT, database) == {}  # once
    line = VALID.replace(b'"e1"', b'"e2"') + b',"page_title":"Home"}'
    path = write_lines(tmp_path / "events" / "arrival_date=2026-03-02" / "v3.jsonl", [line])
    batch_writer("events", FeedCounts(), Counter[str](), database)(
        spark.read.text(str(path)).select("value", "_metadata"), 1
    )
    loaded = {
        r.event_id: (r.page_title, r._extra_fields) for r in spark.table(f"{database}.events").collect()
    }
    assert loaded == {"e1": (None, None), "e2": ("Home", None)}

    retyped = tuple(replace(f, type="string") if f.name == "quantity" else f for f in v3.fields)
    monkeypatch.setattr(events, "LATEST_EVENTS", Contract("events", 4, retyped))
    with pytest.raises(
        LakehouseError,
        match=rf"^{database}\.events\.quantity: the contract's type is string but the table holds int; ",
    ) as error:
        tables.ensure_bronze(spark, FORMAT, database)
    assert "\n" not in str(error.value)
    assert "quantity" in spark.table(f"{database}.events").schema.simpleString()


def test_a_field_added_to_a_cdc_payload_is_added_inside_before_and_after(
    spark: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    if FORMAT != "delta":
        pytest.skip("nested columns are added to Delta tables only (Parquet tables take top-level columns)")
    database = f"bronze_evolve_cdc_{uuid4().hex[:8]}"
    tables.ensure_bronze(spark, FORMAT, database)
    users = cdc.CDC_CONTRACTS["users"]
    monkeypatch.setitem(
        cdc.CDC_CONTRACTS, "users", Contract("users", 2, (*users.fields, Field("loyalty_tier", "string")))
    )
    table = f"{database}.cdc_users"
    assert tables.ensure_bronze(spark, FORMAT, database) == {
        table: ["before.loyalty_tier", "after.loyalty_tier"]
    }
    schema = spark.table(table).schema
    assert schema["after"].dataType.fieldNames()[-1] == "loyalty_tier"
    assert schema["before"].dataType.fieldNames()[-1] == "loyalty_tier"


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"", 0),
        (b"a\n", 1),
        (b"a", 1),
        (b"a\nb", 2),
        (b"a\r\nb\r\n", 2),
        (b"a\rb\r", 2),
        (b"a\n\nb\n", 3),  # a blank line is a line: Spark reads it, the parser quarantines it
    ],
)
def test_lines_are_counted_as_spark_splits_them(
    spark: SparkSession, tmp_path: Path, data: bytes, lines: int
) -> None:
    plain = tmp_path / "f.jsonl"
    plain.write_bytes(data)
    packed = tmp_path / "f.jsonl.gz"
    packed.write_bytes(gzip.compress(data))
    assert landing_layout.count_lines(plain) == landing_layout.count_lines(packed) == lines
    assert spark.read.text(str(plain)).count() == lines


def test_a_file_without_a_manifest_is_counted_and_a_wrong_manifest_is_named(
    spark: SparkSession, tmp_path: Path
) -> None:
    """Producers that write no manifest reconcile exactly (ingestion counts the file's lines and
    keeps the count); a manifest that disagrees with its file fails, naming the file."""
    settings = replace(Settings.from_env(), home=tmp_path / "home")
    database = f"bronze_manifests_{uuid4().hex[:8]}"
    day = settings.landing_dir / "events" / "arrival_date=2026-03-02"
    lines = [VALID.replace(b'"e1"', f'"m{i}"'.encode()) + b"}" for i in range(4)] + [b"{broken"]
    write_lines(day / "from-a-kafka-sink.jsonl", lines)

    first = ingest(spark, settings, database=database)
    events = first.feeds["events"]
    assert (events.landed, events.bronze, events.quarantined) == (5, 4, 1)
    assert events.files_without_manifest == 1
    assert first.reconciled
    assert first.summary()["events_files_without_manifest"] == 1
    kept = json.loads(
        (
            settings.landing_dir / "_manifests/events/arrival_date=2026-03-02/from-a-kafka-sink.jsonl.json"
        ).read_text()
    )
    assert (kept["lines"], kept["counted_by"]) == (5, landing_layout.COUNTED_BY)
    assert ingest(spark, settings, database=database).feeds["events"].landed == 5  # counted once

    write_lines(day / "short.jsonl", lines[:3])
    manifest = landing_layout.manifest_path(
        settings.landing_dir, Path("events/arrival_date=2026-03-02/short.jsonl")
    )
    manifest.write_text(json.dumps({"lines": 7}))
    third = ingest(spark, settings, database=database)
    assert not third.reconciled
    assert third.feeds["events"].mismatched_files == [
        "events/arrival_date=2026-03-02/short.jsonl: its manifest says 7 lines, the file holds 3, 3 loaded"
    ]


KILL_AFTER_BRONZE = """
import os, signal, sys
from lakehouse.ingest import bronze
write_rows = bronze._insert

def write_then_die(frame, table):
    write_rows(frame, table)
    if table == "bronze.events" and frame.select("_batch_id").first()[0] == 1:
        os.kill(os.getpid(), signal.SIGKILL)  # batch 1's offsets are logged, its commit is not

bronze._insert = write_then_die
from lakehouse.spark import get_spark
bronze.ingest(get_spark(), max_files_per_batch=1)
"""


@pytest.mark.slow
def test_a_kill_between_a_batchs_offsets_and_its_commit_is_replayed_exactly_once(tmp_path: Path) -> None:
    """The driver is SIGKILLed inside an events micro-batch, after it wrote the batch's bronze rows
    and before the batch's commit. The next `lakehouse ingest` replays that batch from the
    checkpoint under the same batch id, overwriting its partitions: every landed line is loaded
    once, none twice."""
    home = tmp_path / "home"
    generated = generate(scale_events=3_000, days=3, seed=13, out_dir=home / "landing", progress=False)
    env = {**os.environ, "LAKEHOUSE_HOME": str(home), "DBT_TARGET_PATH": str(tmp_path / "target")}
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_BRONZE], env=env, capture_output=True, timeout=600
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    events_log = home / "checkpoints" / "bronze_events"
    assert (events_log / "offsets" / "1").exists()
    assert not (events_log / "commits" / "1").exists()

    again = subprocess.run(
        [sys.executable, "-m", "lakehouse.cli", "ingest", "--max-files-per-batch", "1"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    summary = json.loads(again.stdout[again.stdout.index("{") :])
    assert (events_log / "commits" / "1").exists()
    for feed in FEEDS:
        assert summary[f"{feed}_landed"] == generated.lines[feed]
        assert summary[f"{feed}_landed"] == summary[f"{feed}_bronze"] + summary[f"{feed}_quarantined"], feed
