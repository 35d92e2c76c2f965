"""`ingest --source kafka`: the clickstream topic and Debezium's topics → the same bronze tables.

One Structured Streaming query per feed reads its topic with Spark's Kafka source (fetched by
`make streaming-setup`), `trigger(availableNow)`, at most `--max-offsets-per-batch` records per
micro-batch, checkpointed under `$LAKEHOUSE_HOME/checkpoints/kafka_<feed>`. Each micro-batch goes
through the file path's writer (`bronze.batch_writer`): the same contracts, the same quarantine,
the same idempotent overwrite of the batch's own partitions. Exactly once is the two together:
the checkpoint records a batch's offset range before the batch runs, so a driver that dies mid-batch
replays exactly that range under the same batch id, and the replay overwrites what the dead one
wrote. Kafka batches are numbered from `BATCH_ID_BASE`, so they never share a partition with a
file stream's batches in the same warehouse.

Reconciliation is against Kafka itself: per topic and partition, the records the broker holds (its
end offset; this broker keeps everything, see `streaming.render`) = bronze rows + quarantined rows
(tombstones included) from that partition, with no offset twice.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf
from pyspark.sql.streaming import StreamingQuery

from lakehouse import connectors, table_format
from lakehouse.checks import CRITICAL, FAIL, SOURCE_INGEST, CheckResult
from lakehouse.config import Settings
from lakehouse.contracts.cdc import CDC_FEEDS
from lakehouse.contracts.quarantine import TOMBSTONE
from lakehouse.errors import LakehouseError
from lakehouse.ingest import parse, tables, topics
from lakehouse.ingest.bronze import (
    INGEST_CONF,
    FeedCounts,
    IngestResult,
    await_streams,
    batch_writer,
    bronze_table,
    drift_report,
    quarantine_feed,
    start_available_now,
)
from lakehouse.ingest.topics import EVENTS_TOPIC, HOST, KafkaConnection, cdc_topic
from lakehouse.spark import runtime_conf

FEED_TOPICS = {"events": EVENTS_TOPIC, **{f"cdc_{feed}": cdc_topic(feed) for feed in CDC_FEEDS}}
# records per micro-batch: a batch's rows are cached while written, so this bounds the heap
# (a clickstream record is about 600 bytes of JSON)
MAX_OFFSETS_PER_BATCH = 250_000
BATCH_ID_BASE = 1 << 40
SOURCE_PREFIX = "kafka:"


def spark_conf(settings: Settings) -> dict[str, str]:
    """The session settings Kafka needs on top of the table format's: its jars, and, on the
    embedded local Spark, a driver bound to loopback like the broker (on a cluster the executors
    must reach the driver at its own address)."""
    jars = connectors.installed_jars("kafka")
    if jars is None:
        raise LakehouseError(
            f"Spark's Kafka source ({connectors.kafka_coordinate()}) is not installed: "
            "run `make streaming-setup`"
        )
    existing = table_format.resolve(settings).spark_conf.get("spark.jars", "")
    conf = {"spark.jars": ",".join([*filter(None, existing.split(",")), *(str(jar) for jar in jars)])}
    if is_local(settings):
        conf |= {"spark.driver.host": HOST, "spark.driver.bindAddress": HOST}
    return conf


def is_local(settings: Settings) -> bool:
    """Whether the session is Spark's embedded local mode (local, local[n], local[*], ...)."""
    return settings.master == "local" or settings.master.startswith("local[")


def use_kafka_source() -> None:
    """Start this process's session with the Kafka source loaded (later `get_spark` calls reuse it)."""
    from lakehouse.spark import get_spark, running_session

    if running_session() is not None:
        return
    settings = Settings.from_env()
    if is_local(settings):
        os.environ.setdefault("SPARK_LOCAL_IP", HOST)
    get_spark("lakehouse-run", spark_conf(settings))


def _with_kafka_columns(records: DataFrame, batch_id: int) -> DataFrame:
    return records.select(
        sf.col("value").cast("string").alias(parse.RAW),  # a tombstone's null value stays null
        sf.concat(sf.lit(SOURCE_PREFIX), "topic", sf.lit("/"), sf.col("partition").cast("string")).alias(
            "_source_file"
        ),
        sf.col("offset").alias("_source_offset"),
        sf.to_date("timestamp").alias("_arrival_date"),
        sf.lit(BATCH_ID_BASE + batch_id).cast("long").alias("_batch_id"),
        sf.current_timestamp().alias("_ingested_at"),
    )


def start_stream(
    spark: SparkSession,
    settings: Settings,
    connection: KafkaConnection,
    feed: str,
    topic: str,
    writer: Any,
    max_offsets: int,
    checkpoint_name: str,
) -> StreamingQuery:
    records = (
        spark.readStream.format("kafka")
        .options(**connection.spark_options())
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .option("maxOffsetsPerTrigger", str(max_offsets))
        .option("failOnDataLoss", "true")  # records deleted before they were read: stop, do not skip
        .load()
    )
    return start_available_now(records, writer, settings, f"{checkpoint_name}_{feed}")


@dataclass
class PartitionCounts:
    produced: int  # the partition's end offset: every record the broker holds
    bronze: int
    quarantined: int
    tombstones: int  # of the quarantined
    distinct_offsets: int  # offsets in bronze and quarantine together: a replayed record counts once

    @property
    def reconciled(self) -> bool:
        return self.produced == self.bronze + self.quarantined == self.distinct_offsets


def partition_counts(
    spark: SparkSession,
    connection: KafkaConnection,
    database: str = tables.DATABASE,
    feed_topics: dict[str, str] = FEED_TOPICS,
) -> dict[str, PartitionCounts]:
    """`<topic>/<partition>` -> what Kafka holds and what bronze and quarantine hold from it."""
    found: dict[str, PartitionCounts] = {}
    ends = topics.offsets(connection.bootstrap, list(feed_topics.values()), connection.options)
    rows = []
    for feed in feed_topics:
        loaded = spark.table(bronze_table(feed, database)).select(
            "_source_file",
            "_source_offset",
            sf.lit(False).alias("quarantined"),
            sf.lit(False).alias("tombstone"),
        )
        rejected = spark.table(f"{database}.{tables.QUARANTINE}").filter(
            sf.col("feed") == quarantine_feed(feed)
        )
        rejected = rejected.select(
            "_source_file",
            "_source_offset",
            sf.lit(True).alias("quarantined"),
            (sf.col("reason") == TOMBSTONE).alias("tombstone"),
        )
        rows.append(loaded.unionByName(rejected).filter(sf.col("_source_file").startswith(SOURCE_PREFIX)))
    union = rows[0]
    for more in rows[1:]:
        union = union.unionByName(more)
    tallies = (
        union.groupBy("_source_file")
        .agg(
            sf.count_if(~sf.col("quarantined")).alias("bronze"),
            sf.count_if("quarantined").alias("quarantined"),
            sf.count_if("tombstone").alias("tombstones"),
            sf.count_distinct("_source_offset").alias("distinct_offsets"),
        )
        .collect()
    )
    by_source = {row["_source_file"].removeprefix(SOURCE_PREFIX): row for row in tallies}
    for (topic, partition), (_low, end) in sorted(ends.items()):
        key = f"{topic}/{partition}"
        row = by_source.get(key)
        counts = (
            [int(row[c]) for c in ("bronze", "quarantined", "tombstones", "distinct_offsets")]
            if row
            else [0] * 4
        )
        found[key] = PartitionCounts(end, *counts)
    return found


@dataclass
class KafkaIngestResult(IngestResult):
    partitions: dict[str, PartitionCounts] | None = None

    @property
    def reconciled(self) -> bool:
        return all(p.reconciled for p in (self.partitions or {}).values()) and super().reconciled

    def failures(self) -> list[CheckResult]:
        """The feeds' checks, and one failed check per topic partition that does not add up."""
        return super().failures() + [
            CheckResult(
                source=SOURCE_INGEST,
                object=key,
                check="produced = bronze + quarantined",
                severity=CRITICAL,
                status=FAIL,
                failing_rows=abs(p.produced - p.bronze - p.quarantined)
                or abs(p.produced - p.distinct_offsets),
                detail=f"produced {p.produced} != bronze {p.bronze} + quarantined {p.quarantined} "
                f"(distinct offsets {p.distinct_offsets})",
            )
            for key, p in (self.partitions or {}).items()
            if not p.reconciled
        ]

    def summary(self) -> dict[str, Any]:
        out = {**super().summary(), "ingest_source": "kafka"}
        out["ingest_reconciled"] = self.reconciled
        out["kafka_partitions"] = {
            key: {**asdict(counts), "reconciled": counts.reconciled}
            for key, counts in (self.partitions or {}).items()
        }
        return out


def ingest(
    spark: SparkSession,
    settings: Settings | None = None,
    connection: KafkaConnection | None = None,
    max_offsets_per_batch: int = MAX_OFFSETS_PER_BATCH,
    database: str = tables.DATABASE,
    feed_topics: dict[str, str] = FEED_TOPICS,
) -> KafkaIngestResult:
    """Ingest every record the feeds' topics hold that an earlier run has not; reconcile with Kafka.

    `connection` is the broker and client properties (default: LAKEHOUSE_KAFKA_BOOTSTRAP_SERVERS and
    LAKEHOUSE_KAFKA_OPTIONS); `feed_topics` chooses the feeds and their topics (the benchmark reads
    its own events topic)."""
    feeds = tuple(feed_topics)
    started = time.monotonic()
    settings = settings or Settings.from_env()
    connection = connection or KafkaConnection.from_env()
    # one clear line when the broker is down, before Spark retries
    topics.partitions(connection.bootstrap, connection.options)
    fmt = table_format.resolve(settings)
    schema_changes = tables.ensure_bronze(spark, fmt.name, database)
    counts = {feed: FeedCounts() for feed in feeds}
    drift: Counter[str] = Counter()
    writers = {
        feed: batch_writer(feed, counts[feed], drift, database, lineage=_with_kafka_columns) for feed in feeds
    }
    checkpoint_name = "kafka" if database == tables.DATABASE else f"kafka_{database}"
    with runtime_conf(spark, INGEST_CONF):
        queries = {
            feed: start_stream(
                spark,
                settings,
                connection,
                feed,
                feed_topics[feed],
                writer,
                max_offsets_per_batch,
                checkpoint_name,
            )
            for feed, writer in writers.items()
        }
        await_streams(queries)
    partitions = partition_counts(spark, connection, database, feed_topics)
    reasons = Counter[str]()
    for row in (
        spark.table(f"{database}.{tables.QUARANTINE}")
        .filter(sf.col("_source_file").startswith(SOURCE_PREFIX))
        .groupBy("feed", sf.split("reason", ":").getItem(0).alias("reason"))
        .count()
        .collect()
    ):
        reasons[f"{row['feed']}:{row['reason']}"] += int(row["count"])
    for feed, feed_counts in counts.items():
        mine = [p for key, p in partitions.items() if key.startswith(f"{feed_topics[feed]}/")]
        feed_counts.landed = sum(p.produced for p in mine)
        feed_counts.bronze = sum(p.bronze for p in mine)
        feed_counts.quarantined = sum(p.quarantined for p in mine)
    return KafkaIngestResult(
        feeds=counts,
        quarantine_reasons=dict(sorted(reasons.items())),
        drift={**drift_report(spark, database), **drift},
        schema_changes=schema_changes,
        seconds=round(time.monotonic() - started, 2),
        partitions=partitions,
    )


def describe(result: KafkaIngestResult) -> list[str]:
    """A line per topic partition: what Kafka holds against bronze and quarantine; then this run's."""
    lines = []
    for key, p in (result.partitions or {}).items():
        verdict = "ok" if p.reconciled else "MISMATCH"
        tombstones = f" ({p.tombstones:,} tombstones)" if p.tombstones else ""
        lines.append(
            f"{key}: produced {p.produced:,} = bronze {p.bronze:,} + quarantined {p.quarantined:,}"
            f"{tombstones}, {p.distinct_offsets:,} distinct offsets [{verdict}]"
        )
    added = sum(c.added_bronze + c.added_quarantined for c in result.feeds.values())
    lines.append(f"this run: {added:,} records in {result.seconds:.0f}s")
    return lines
