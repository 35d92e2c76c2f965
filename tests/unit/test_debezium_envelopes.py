"""Real Debezium records (tests/samples/debezium) through the ingestion's contracts, as the Kafka
path hands them over: every op, both replica identities, tombstones, a key change, a new column."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as sf

from lakehouse.contracts import quarantine as q
from lakehouse.ingest import kafka, parse

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "debezium"
FEEDS = {"shop.public.users": "users", "shop.public.products": "products", "shop.public.orders": "orders"}


def sample(name: str) -> dict[str, Any]:
    return dict(json.loads((SAMPLES / name).read_text()))


def records(spark: SparkSession, names: list[str]) -> DataFrame:
    """The samples as Spark's Kafka source delivers them: value bytes (null for a tombstone)."""
    rows = []
    for name in names:
        record = sample(name)
        value = None if record["value"] is None else json.dumps(record["value"]).encode()
        rows.append(
            Row(
                key=json.dumps(record["key"]).encode(),
                value=value,
                topic=record["topic"],
                partition=record["partition"],
                offset=record["offset"],
                timestamp=datetime.fromtimestamp(record["timestamp"] / 1000),
                timestampType=0,
            )
        )
    return spark.createDataFrame(rows)


def parsed(spark: SparkSession, names: list[str]) -> list[Row]:
    feeds = {FEEDS[sample(name)["topic"]] for name in names}
    assert len(feeds) == 1
    lines = kafka._with_kafka_columns(records(spark, names), batch_id=3)
    return parse.parse_changes(lines, feeds.pop()).orderBy("_source_offset").collect()


@pytest.mark.spark
def test_snapshot_create_and_updates_of_both_identities_are_valid(spark: SparkSession) -> None:
    users = parsed(
        spark, ["01-snapshot-r.json", "02-create-c.json", "03-update-u-replica-identity-full.json"]
    )
    assert [(r["op"], r[parse.REASON]) for r in users] == [("r", None), ("c", None), ("u", None)]
    snapshot, _create, update = users
    assert snapshot["before"] is None
    assert snapshot["after"]["signup_at"] == datetime(2026, 1, 2, 3, 4, 5)  # ISO string with micros and Z
    assert snapshot["lsn"] == sample("01-snapshot-r.json")["value"]["source"]["lsn"]
    assert update["before"]["email"] == "ada@example.com"  # FULL identity: the whole old row
    assert update["after"]["email"] == "ada@lovelace.example"
    order = parsed(spark, ["04-update-u-replica-identity-default.json"])[0]
    assert (order["op"], order["before"], order[parse.REASON]) == ("u", None, None)
    assert order["after"]["order_total"] == pytest.approx(199.98)  # numeric as a double


@pytest.mark.spark
def test_deletes_keep_their_key_and_tombstones_are_counted_not_loaded(spark: SparkSession) -> None:
    orders = parsed(spark, ["05-delete-d-replica-identity-default.json", "06-tombstone-after-delete.json"])
    delete, tombstone = orders
    assert (delete["op"], delete["after"], delete[parse.REASON]) == ("d", None, None)
    assert delete["before"]["order_id"] == "o-0001"  # DEFAULT identity: only the key is real
    assert tombstone[parse.REASON] == q.TOMBSTONE
    assert tombstone["_source_file"] == "kafka:shop.public.orders/0"
    products = parsed(spark, ["07-delete-d-replica-identity-full.json"])
    assert products[0]["before"]["product_name"] == "Compiler"


@pytest.mark.spark
def test_a_primary_key_change_is_a_delete_a_tombstone_and_a_create(spark: SparkSession) -> None:
    rows = parsed(
        spark, ["08-pk-change-1-delete.json", "08-pk-change-2-tombstone.json", "08-pk-change-3-create.json"]
    )
    assert [(r["op"], r[parse.REASON]) for r in rows] == [("d", None), (None, q.TOMBSTONE), ("c", None)]
    assert rows[0]["before"]["product_id"] == "p-0001"
    assert rows[2]["after"]["product_id"] == "p-0001b"
    assert rows[0]["lsn"] == rows[2]["lsn"]  # one statement: the LSN is shared, the op tells them apart


@pytest.mark.spark
def test_a_column_added_at_the_source_is_kept_as_an_extra_field(spark: SparkSession) -> None:
    rows = parsed(
        spark, ["09-schema-change-add-column-insert.json", "09-schema-change-add-column-update.json"]
    )
    assert all(r[parse.REASON] is None for r in rows)
    extras = [json.loads(r["_extra_fields"]) for r in rows]
    assert {"loyalty_tier"} == set(extras[0]) == set(extras[1])
    assert {e["loyalty_tier"] for e in extras} == {"silver", "gold"}


@pytest.mark.spark
def test_kafka_lineage_columns(spark: SparkSession) -> None:
    lines = kafka._with_kafka_columns(records(spark, ["02-create-c.json"]), batch_id=5).first()
    assert lines is not None
    assert lines["_source_file"] == "kafka:shop.public.users/0"
    assert lines["_source_offset"] == sample("02-create-c.json")["offset"]
    assert lines["_batch_id"] == kafka.BATCH_ID_BASE + 5
    assert lines["_arrival_date"] is not None
    assert json.loads(lines[parse.RAW])["op"] == "c"
    assert spark.range(1).select(sf.lit(kafka.BATCH_ID_BASE + 5).cast("long")).first()[0] > 10**12
