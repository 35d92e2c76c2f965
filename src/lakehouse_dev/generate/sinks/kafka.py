"""A generation's clickstream, produced to its Kafka topic with the same dirt as the landed files.

Lines go out in the files' order (arrival order), so duplicates, late and out-of-order events,
malformed lines (invalid UTF-8 included: values are bytes), contract-v2 and unknown fields are
all there. Each record is keyed by the visitor's anonymous id (one visitor, one partition) and
timestamped with its arrival time, which ingestion reads as `_arrival_date`. The producer is
idempotent, so a retry inside librdkafka cannot write a record twice.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from confluent_kafka import KafkaError, Message, Producer

from lakehouse.errors import LakehouseError
from lakehouse_dev.generate import jsonl
from lakehouse_dev.generate.core import Generated
from lakehouse_dev.streaming import topics
from lakehouse_dev.streaming.config import EVENTS_PARTITIONS, EVENTS_TOPIC, StreamingConfig

CHUNK = 100_000
PRODUCER_CONF = {
    "linger.ms": 20,
    "batch.num.messages": 10_000,
    "compression.type": "lz4",
    "acks": "all",
    "enable.idempotence": True,
    "log_level": 2,
}


def produce(config: StreamingConfig, generated: Generated, topic: str = EVENTS_TOPIC) -> int:
    """Produce every clickstream line; returns the records the broker acknowledged."""
    topics.ensure_topic(config, topic, EVENTS_PARTITIONS)
    producer = Producer({"bootstrap.servers": config.bootstrap_servers, **PRODUCER_CONF})
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            failures.append(error)

    events, serializer = generated.clicks.events, generated.serializer
    total = len(events["event_key"])
    for start in range(0, total, CHUNK):
        rows = np.arange(start, min(start + CHUNK, total))
        values: list[Any] = serializer.lines(rows).to_pylist()
        keys = jsonl.take(serializer.anon, events["anon"][rows]).to_pylist()
        stamps = events["received_ms"][rows].tolist()
        for number, (value, key, stamp) in enumerate(zip(values, keys, stamps, strict=True)):
            while True:
                try:
                    producer.produce(topic, value=value, key=key, timestamp=stamp, on_delivery=delivered)
                    break
                except BufferError:  # the local queue is full: let librdkafka send
                    producer.poll(0.05)
            if number % 10_000 == 0:
                producer.poll(0)
    deadline = time.monotonic() + 120
    while producer.flush(1.0) and time.monotonic() < deadline:
        pass
    if failures or len(producer):
        reason = failures[0].str() if failures else f"{len(producer)} records not delivered in time"
        raise LakehouseError(f"producing to {topic} failed: {reason}")
    return total
