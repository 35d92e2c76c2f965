"""The runtime's Kafka client (`lakehouse.ingest.topics`) for a StreamingConfig, and what only the
development tools do: create topics."""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import NewTopic

from lakehouse.errors import LakehouseError
from lakehouse.ingest import topics as runtime
from lakehouse_dev.streaming.config import StreamingConfig

TIMEOUT_SECONDS = runtime.TIMEOUT_SECONDS


def reachable(config: StreamingConfig, timeout: float = 2.0) -> bool:
    return runtime.reachable(config.bootstrap_servers, timeout)


def partitions(config: StreamingConfig) -> dict[str, int]:
    """Every topic (Kafka's internal ones left out) and its number of partitions."""
    return runtime.partitions(config.bootstrap_servers)


def offsets(config: StreamingConfig, topics: list[str]) -> dict[tuple[str, int], tuple[int, int]]:
    """(topic, partition) -> (earliest, end) offset, as `lakehouse.ingest.topics.offsets`."""
    return runtime.offsets(config.bootstrap_servers, topics)


def ensure_topic(config: StreamingConfig, name: str, partition_count: int) -> None:
    if name in partitions(config):
        return
    client = runtime.admin(config.bootstrap_servers)  # referenced until the future resolves
    future = client.create_topics([NewTopic(name, num_partitions=partition_count, replication_factor=1)])[
        name
    ]
    try:
        future.result(TIMEOUT_SECONDS)
    except KafkaException as exc:
        if "TOPIC_ALREADY_EXISTS" not in str(exc):
            raise LakehouseError(f"cannot create topic {name}: {exc}") from exc
