"""The real-time path with real components: PostgreSQL → Debezium → Kafka → Structured Streaming → bronze.

One scenario, in order, on a stack of its own (own LAKEHOUSE_HOME under the checkout, own ports):
up → `generate --to postgres,kafka` → `run --source kafka` (ingest, dbt build, checks) → the CDC
current-state models equal `select *` from PostgreSQL, the SCD2 history is sound → faults (the Spark
driver killed mid-stream, the broker stopped and restarted, the connector restarted, a column added
to a source table), each followed by an ingest that must reconcile with no record lost or doubled →
dbt build and the same equality → down, with no process left.

Every step is a `lakehouse` or `dbt` command in a process of its own, as a person would run it; the
test process opens Spark only to read the built tables, between those commands. Run with
`make test-streaming` (it fetches the jars and installs PostgreSQL when missing).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lakehouse.config import project_dir

pytestmark = [pytest.mark.streaming, pytest.mark.slow]

BIN = Path(sys.executable).parent
SALT = "streaming-test-salt"
SAMPLE = ["--scale", "3000", "--days", "3", "--seed", "7"]
PORTS = {
    "LAKEHOUSE_KAFKA_PORT": "29092",
    "LAKEHOUSE_KAFKA_CONTROLLER_PORT": "29093",
    "LAKEHOUSE_CONNECT_PORT": "28083",
    "LAKEHOUSE_PG_PORT": "25432",
}
TIMEOUT = float(os.environ.get("LAKEHOUSE_STREAMING_TEST_TIMEOUT", "2400"))
CDC_MODELS = {"users": "user", "products": "product", "orders": "order"}
# contract columns compared with PostgreSQL (users' email only as the salted hash the model keeps)
COMPARED = {
    "users": ("country_code", "signup_at", "marketing_opt_in", "updated_at"),
    "products": ("product_name", "category_id", "brand", "price", "currency", "is_active", "updated_at"),
    "orders": (
        "user_id",
        "order_status",
        "order_total",
        "currency",
        "item_count",
        "created_at",
        "updated_at",
    ),
}


def _env(home: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "DBT_", "SPARK_", "PYSPARK_"))
    }
    env.update(PORTS)
    env.update(
        LAKEHOUSE_HOME=str(home),
        LAKEHOUSE_PII_SALT=SALT,
        LAKEHOUSE_DRIVER_MEMORY="2g",
        LAKEHOUSE_SCHEMA="lakehouse",
        DBT_TARGET_PATH=str(home / "target"),
        DBT_LOG_PATH=str(home / "target" / "logs"),
        DBT_PROFILES_DIR=str(project_dir() / "profiles"),
        SPARK_LOCAL_IP="127.0.0.1",
    )
    return env


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    command = [str(BIN / args[0]), *args[1:]]
    done = subprocess.run(
        command,
        env=_env(home),
        cwd=project_dir(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    print(f"{' '.join(args[:4])}: exit {done.returncode} in {time.monotonic() - started:.0f}s", flush=True)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


class Stack:
    """The scenario's shared state: its home, and clients of its services."""

    def __init__(self, home: Path) -> None:
        self.home = home

    @property
    def config(self) -> Any:
        from lakehouse_dev.streaming.config import StreamingConfig

        with pytest.MonkeyPatch.context() as patch:
            for key, value in _env(self.home).items():
                patch.setenv(key, value)
            return StreamingConfig.from_env()

    def ingest(self, *extra: str) -> dict[str, Any]:
        done = _run(self.home, "lakehouse", "ingest", "--source", "kafka", *extra)
        summary = json.loads(done.stdout[done.stdout.index("\n{") :])
        assert summary["ingest_reconciled"], done.stdout
        return dict(summary)

    def sql(self, statements: list[str]) -> None:
        from lakehouse_dev.streaming import shop

        with shop.connect(self.config) as connection, connection.transaction():
            for statement in statements:
                connection.execute(statement)  # type: ignore[call-overload]

    def cdc_records(self) -> int:
        from lakehouse_dev.streaming import topics
        from lakehouse_dev.streaming.config import cdc_topic

        ends = topics.offsets(self.config, [cdc_topic(table) for table in CDC_MODELS])
        return sum(end for _low, end in ends.values())

    def events_records(self) -> int:
        from lakehouse_dev.streaming import topics
        from lakehouse_dev.streaming.config import EVENTS_TOPIC

        return sum(end for _low, end in topics.offsets(self.config, [EVENTS_TOPIC]).values())

    def wait_for_cdc(self, at_least: int, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while self.cdc_records() < at_least:
            assert time.monotonic() < deadline, (
                f"Debezium delivered {self.cdc_records()} of {at_least} records"
            )
            time.sleep(1.0)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    # under the checkout, not /tmp: PostgreSQL runs as `postgres`, which must reach its data dir
    home = project_dir() / ".lakehouse" / "test-streaming"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    started = time.monotonic()
    stack = Stack(home)
    try:
        yield stack
    finally:
        subprocess.run([str(BIN / "lakehouse-dev"), "streaming", "down"], env=_env(home), check=False)
        print(f"streaming scenario: {time.monotonic() - started:.0f}s", flush=True)


@pytest.fixture(scope="module")
def spark_reader(stack: Stack) -> Iterator[Any]:
    """Opens Spark on the scenario's warehouse for one read and stops it, so the next command can
    take the metastore."""
    from contextlib import contextmanager

    from lakehouse.spark import get_spark, stop_spark

    @contextmanager
    def reader() -> Iterator[Any]:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in _env(stack.home).items():
                patch.setenv(key, value)
            try:
                yield get_spark("streaming-test-reader")
            finally:
                stop_spark()

    return reader


def _micros(value: datetime) -> int:
    return (value.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _normal(value: Any) -> Any:
    if isinstance(value, datetime):
        return _micros(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, str):
        return value.strip()
    if value is None or isinstance(value, bool | int):
        return value
    return round(float(value), 2)


def postgres_state(stack: Stack, table: str) -> dict[str, tuple[Any, ...]]:
    from lakehouse_dev.streaming import shop

    names, rows = shop.rows(stack.config, table)
    key = f"{CDC_MODELS[table]}_id"
    state = {}
    for row in rows:
        record = dict(zip(names, row, strict=True))
        values = tuple(_normal(record[c]) for c in COMPARED[table])
        if table == "users":
            email = (record["email"] or "").strip().lower()
            values += (hashlib.sha256(f"{SALT}|{email}".encode()).hexdigest() if email else None,)
        state[record[key]] = values
    return state


def lakehouse_state(spark: Any, table: str) -> dict[str, tuple[Any, ...]]:
    entity = CDC_MODELS[table]
    columns = list(COMPARED[table]) + (["email_hash"] if table == "users" else [])
    rows = spark.sql(
        f"select {entity}_id, "
        + ", ".join(f"unix_micros({c})" if c.endswith(("_at",)) else c for c in columns)
        + f" from intermediate.int_{entity}_changes_applied"
    ).collect()
    return {row[0]: tuple(_normal(v) for v in row[1:]) for row in rows}


def assert_equal_to_postgres(stack: Stack, spark_reader: Any) -> dict[str, int]:
    with spark_reader() as spark:
        built = {table: lakehouse_state(spark, table) for table in CDC_MODELS}
        for entity in CDC_MODELS.values():
            history = spark.sql(f"select * from intermediate.int_{entity}_changes_historized")
            current = history.filter("is_current").groupBy(f"{entity}_id").count().filter("count > 1")
            assert current.count() == 0, f"{entity}: a key with more than one current version"
            overlaps = spark.sql(
                f"""
                select a.{entity}_id from intermediate.int_{entity}_changes_historized a
                join intermediate.int_{entity}_changes_historized b
                  on a.{entity}_id = b.{entity}_id and a.version_number < b.version_number
                 and a.valid_from < coalesce(b.valid_to, timestamp'9999-12-31')
                 and b.valid_from < coalesce(a.valid_to, timestamp'9999-12-31')
                """
            )
            assert overlaps.count() == 0, f"{entity}: overlapping validity in the SCD2 history"
    counts = {}
    for table, mine in built.items():
        theirs = postgres_state(stack, table)
        assert mine == theirs, f"{table}: {len(set(mine) ^ set(theirs))} keys differ"
        counts[table] = len(theirs)
    print(f"current state = postgres, rows: {counts}", flush=True)
    return counts


# -- the scenario -------------------------------------------------------------------------------


def test_up_generate_and_run_from_kafka(stack: Stack) -> None:
    first = _run(stack.home, "lakehouse-dev", "streaming", "up", "kafka", "postgres").stdout
    assert "kafka: started" in first
    assert "postgres: started" in first
    again = _run(stack.home, "lakehouse-dev", "streaming", "up", "kafka", "postgres").stdout
    assert "kafka: already running" in again
    assert "postgres: already running" in again
    generated = _run(stack.home, "lakehouse-dev", "generate", "--to", "postgres,kafka", *SAMPLE).stdout
    assert "connect: started" in generated  # capture attached after the initial load: a real snapshot
    _run(stack.home, "lakehouse", "run", "--source", "kafka", "--target", "ci")
    summary = json.loads((stack.home / "target" / "run_summary.json").read_text())
    assert summary["ingest_source"] == "kafka"
    assert summary["ingest_reconciled"] is True
    assert summary["tests_failed"] == 0
    partitions = summary["kafka_partitions"]
    assert set(partitions) == {
        "clickstream.events/0",
        "clickstream.events/1",
        "shop.public.users/0",
        "shop.public.products/0",
        "shop.public.orders/0",
    }
    assert all(p["reconciled"] and p["produced"] > 0 for p in partitions.values())
    assert partitions["shop.public.users/0"]["tombstones"] > 0  # a delete, then its tombstone
    reasons = summary["quarantine_reasons"]
    assert {"events:malformed_json", "events:invalid_utf8", "users:tombstone"} <= set(reasons)


def test_snapshot_reads_arrive_as_op_r(stack: Stack, spark_reader: Any) -> None:
    with spark_reader() as spark:
        ops = {
            row["op"]: row["n"]
            for row in spark.sql("select op, count(*) as n from bronze.cdc_users group by op").collect()
        }
    assert ops["r"] > 0
    assert ops["u"] > 0
    assert ops["d"] > 0


def test_current_state_equals_postgres(stack: Stack, spark_reader: Any) -> None:
    counts = assert_equal_to_postgres(stack, spark_reader)
    assert all(counts.values())


def test_driver_killed_mid_stream_then_restarted(stack: Stack) -> None:
    before = stack.events_records()
    more = ["--scale", "3000", "--days", "3", "--seed", "8"]  # a second generation: new event ids
    _run(stack.home, "lakehouse-dev", "generate", "--to", "kafka", *more)
    produced = stack.events_records()
    assert produced > before
    commits = stack.home / "checkpoints" / "kafka_events" / "commits"
    before = len(list(commits.glob("[0-9]*")))
    command = [str(BIN / "lakehouse"), "ingest", "--source", "kafka", "--max-offsets-per-batch", "300"]
    process = subprocess.Popen(
        command, env=_env(stack.home), cwd=project_dir(), start_new_session=True, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + TIMEOUT
    while len(list(commits.glob("[0-9]*"))) < before + 2:  # two batches committed, more to come
        assert process.poll() is None, "the ingest finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and its JVM, mid-stream
    process.wait()
    summary = stack.ingest()
    events = [p for key, p in summary["kafka_partitions"].items() if key.startswith("clickstream")]
    assert all(p["produced"] == p["bronze"] + p["quarantined"] == p["distinct_offsets"] for p in events)
    assert sum(p["bronze"] + p["quarantined"] for p in events) == produced  # both generations, once


def _workload(tag: str) -> list[str]:
    """Inserts, updates and deletes on all three tables: 9 changes and 2 tombstones."""
    return [
        f"insert into users values ('u_{tag}1', '{tag}1@example.com', 'Fault One', 'DE', now(), true, now())",
        f"insert into users values ('u_{tag}2', '{tag}2@example.com', 'Fault 2', 'FR', now(), false, now())",
        f"update users set country_code = 'NL', updated_at = now() where user_id = 'u_{tag}1'",
        f"delete from users where user_id = 'u_{tag}2'",
        f"insert into products values ('p_{tag}', 'Fault Lamp', 'c_01', 'Acme', 12.5, 'EUR', true, now())",
        f"update products set price = 13.75, updated_at = now() where product_id = 'p_{tag}'",
        f"insert into orders values ('o_{tag}', 'u_{tag}1', 'placed', 27.5, 'EUR', 2, now(), now())",
        f"update orders set order_status = 'paid', updated_at = now() where order_id = 'o_{tag}'",
        f"delete from orders where order_id = 'o_{tag}'",
    ]


def test_broker_stopped_and_restarted(stack: Stack) -> None:
    delivered = stack.cdc_records()
    _run(stack.home, "lakehouse-dev", "streaming", "down", "kafka")  # Connect stops with it
    stack.sql(_workload("brk"))  # committed while Kafka is down: the slot keeps the WAL
    _run(stack.home, "lakehouse-dev", "streaming", "up")
    stack.wait_for_cdc(delivered + 11)
    stack.ingest()


def test_connector_restarted_and_a_column_added(stack: Stack, spark_reader: Any) -> None:
    delivered = stack.cdc_records()
    _run(stack.home, "lakehouse-dev", "streaming", "down", "connect")
    stack.sql(_workload("con"))
    _run(stack.home, "lakehouse-dev", "streaming", "up", "connect")
    stack.sql(
        [
            "alter table users add column loyalty_tier text",  # PostgreSQL sends no DDL event
            "update users set loyalty_tier = 'gold', updated_at = now() where user_id = 'u_con1'",
        ]
    )
    stack.wait_for_cdc(delivered + 12)
    summary = stack.ingest()
    assert summary["schema_drift"]["cdc_extra_fields"] == {"users.loyalty_tier": 1}


def test_after_the_faults_nothing_is_lost_or_doubled(stack: Stack, spark_reader: Any) -> None:
    models = " ".join(f"+int_{e}_changes_applied +int_{e}_changes_historized" for e in CDC_MODELS.values())
    _run(stack.home, "dbt", "build", "--target", "ci", "--select", *models.split())
    counts = assert_equal_to_postgres(stack, spark_reader)
    assert counts["users"] > 0
    with spark_reader() as spark:
        for table in CDC_MODELS:
            doubled = spark.sql(
                f"select _source_offset from bronze.cdc_{table} group by _source_offset having count(*) > 1"
            )
            assert doubled.count() == 0, f"cdc_{table}: a Kafka offset loaded twice"


def test_down_leaves_no_process(stack: Stack) -> None:
    from lakehouse_dev.streaming import services

    done = _run(stack.home, "lakehouse-dev", "streaming", "down")
    assert "no process left running" in done.stdout
    assert services.leftovers(stack.config) == []
