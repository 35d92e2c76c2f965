"""`lakehouse-dev bench --kafka`: Kafka → bronze events per second, beside the file path's, in one run.

The benchmark's clickstream (the same configuration the file stage landed, so the same lines with
the same dirt) is produced to a topic of its own, then ingested by the Kafka path into a database
of its own (`bench_kafka`) in the benchmark's Spark session: the same contracts, writer and
micro-batch bound as `ingest --source kafka`. The broker is started if it is not running and stopped
again afterwards; PostgreSQL and Debezium are not needed. Its ports are the streaming stack's plus
100, so a stack a developer has running elsewhere is left alone.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from pyspark.sql import SparkSession

from lakehouse.config import Settings
from lakehouse.errors import LakehouseError

TOPIC = "bench.clickstream.events"
DATABASE = "bench_kafka"


def run_kafka_ingest(bench: Any, spark: SparkSession, settings: Settings) -> None:
    """Produce the generation's clickstream, then time its ingestion from Kafka into bronze."""
    from lakehouse.ingest import kafka
    from lakehouse.ingest.topics import KafkaConnection
    from lakehouse_dev.generate.config import GenerateConfig
    from lakehouse_dev.generate.core import build
    from lakehouse_dev.generate.sinks import kafka as kafka_sink
    from lakehouse_dev.streaming import services, topics
    from lakehouse_dev.streaming.config import StreamingConfig

    options = bench.options
    defaults = StreamingConfig.from_env()
    config = replace(
        defaults, kafka_port=defaults.kafka_port + 100, controller_port=defaults.controller_port + 100
    )
    started_broker = services.running(config)["kafka"] is None
    services.up(config, ["kafka"])
    try:
        if TOPIC in topics.partitions(config):
            raise LakehouseError(f"topic {TOPIC} exists already: `lakehouse-dev streaming down --wipe` first")
        cfg = GenerateConfig(
            scale_events=options.scale_events + options.scale_events // options.days,
            days=options.days + 1,
            seed=options.seed,
        )
        produce_started = time.monotonic()
        produced = kafka_sink.produce(config, build(cfg), TOPIC)
        produce_seconds = time.monotonic() - produce_started
        seconds, result = bench.timed(
            "ingest (kafka)",
            lambda: kafka.ingest(
                spark,
                settings,
                KafkaConnection(config.bootstrap_servers),  # the loopback broker started above
                database=DATABASE,
                feed_topics={"events": TOPIC},
            ),
        )
        if not result.reconciled:
            raise LakehouseError(
                f"the Kafka ingest did not reconcile: {result.summary()['kafka_partitions']}"
            )
    finally:
        if started_broker:
            services.down(config, ["kafka"])
    file_seconds = bench.results["stage_seconds"]["ingest"]
    file_lines = sum(bench.results.get("landed_lines", {}).values())
    bench.results["kafka_ingest"] = {
        "topic": TOPIC,
        "records": produced,
        "bronze_events": result.feeds["events"].bronze,
        "produce_seconds": round(produce_seconds, 2),
        "produce_records_per_s": round(produced / produce_seconds, 1) if produce_seconds else 0.0,
        "ingest_seconds": round(seconds, 2),
        "kafka_events_per_s": round(produced / seconds, 1) if seconds else 0.0,
        "file_lines": file_lines,
        "file_ingest_seconds": file_seconds,
        "file_lines_per_s": round(file_lines / file_seconds, 1) if file_seconds else 0.0,
    }
