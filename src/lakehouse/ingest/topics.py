"""Kafka as the runtime sees it: where the broker is, which topics hold which feed, and what each
topic's partitions hold (confluent-kafka's metadata and watermark offsets; no consumer group is
committed). The services themselves (broker, PostgreSQL, Debezium) are development tooling:
`lakehouse-dev streaming`."""

from __future__ import annotations

import os

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from lakehouse.errors import LakehouseError

HOST = "127.0.0.1"
KAFKA_PORT_ENV = "LAKEHOUSE_KAFKA_PORT"
DEFAULT_KAFKA_PORT = 19092
# topics: Debezium writes <prefix>.<schema>.<table>; the clickstream has a topic of its own
CDC_TOPIC_PREFIX = "shop"
EVENTS_TOPIC = "clickstream.events"
EVENTS_PARTITIONS = 2
TIMEOUT_SECONDS = 10.0


def cdc_topic(table: str) -> str:
    return f"{CDC_TOPIC_PREFIX}.public.{table}"


def port_from_env(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise LakehouseError(f"{name}={value!r} must be a port number")
    return int(value)


def bootstrap_servers() -> str:
    """The broker on loopback, on LAKEHOUSE_KAFKA_PORT (default 19092)."""
    return f"{HOST}:{port_from_env(KAFKA_PORT_ENV, DEFAULT_KAFKA_PORT)}"


def admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, "log_level": 2})


def reachable(bootstrap: str, timeout: float = 2.0) -> bool:
    try:
        metadata = admin(bootstrap).list_topics(timeout=timeout)
    except KafkaException:
        return False
    return bool(metadata.brokers)


def partitions(bootstrap: str) -> dict[str, int]:
    """Every topic (Kafka's internal ones left out) and its number of partitions."""
    try:
        metadata = admin(bootstrap).list_topics(timeout=TIMEOUT_SECONDS)
    except KafkaException as exc:
        raise LakehouseError(
            f"Kafka on {bootstrap} does not answer ({exc}); start it with `lakehouse-dev streaming up`"
        ) from exc
    return {
        name: len(topic.partitions) for name, topic in metadata.topics.items() if not name.startswith("_")
    }


def offsets(bootstrap: str, topics: list[str]) -> dict[tuple[str, int], tuple[int, int]]:
    """(topic, partition) -> (earliest, end) offset: the records a topic holds, per partition.

    Producers here are idempotent but not transactional, so offsets are contiguous and
    `end - earliest` is the number of records."""
    known = partitions(bootstrap)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "lakehouse-offsets", "log_level": 2})
    try:
        found = {}
        for topic in topics:
            for partition in range(known.get(topic, 0)):
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), TIMEOUT_SECONDS)
                found[(topic, partition)] = (int(low), int(high))
        return found
    finally:
        consumer.close()
