"""Kafka as the runtime sees it: where the broker is and how to connect to it, which topics hold
which feed, and what each topic's partitions hold (confluent-kafka's metadata and watermark offsets;
no consumer group is committed). The services themselves (broker, PostgreSQL, Debezium) are
development tooling: `lakehouse-dev streaming`.

The runtime's broker is `LAKEHOUSE_KAFKA_BOOTSTRAP_SERVERS` (default: the loopback broker the
development tools start, on `LAKEHOUSE_KAFKA_PORT`), and `LAKEHOUSE_KAFKA_OPTIONS` is a JSON object
of extra Kafka client properties (security protocol, SASL, TLS, ...) handed to Spark's Kafka source
(as `kafka.<name>`) and to the metadata client. They are read from the environment only and never
written to a file or printed: they may hold credentials.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from lakehouse.errors import LakehouseError

HOST = "127.0.0.1"
KAFKA_PORT_ENV = "LAKEHOUSE_KAFKA_PORT"
DEFAULT_KAFKA_PORT = 19092
BOOTSTRAP_ENV = "LAKEHOUSE_KAFKA_BOOTSTRAP_SERVERS"
OPTIONS_ENV = "LAKEHOUSE_KAFKA_OPTIONS"
# properties the runtime sets itself, or that Spark's Kafka source refuses (it manages offsets and
# deserializes records on its own)
RESERVED_OPTIONS = frozenset(
    {
        "bootstrap.servers",
        "auto.offset.reset",
        "enable.auto.commit",
        "key.deserializer",
        "value.deserializer",
        "interceptor.classes",
    }
)
_SERVER = re.compile(r"^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$")
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
    """LAKEHOUSE_KAFKA_BOOTSTRAP_SERVERS (`host:port[,host:port...]`), else the broker the
    development tools start on loopback, on LAKEHOUSE_KAFKA_PORT (default 19092)."""
    explicit = os.environ.get(BOOTSTRAP_ENV, "").strip()
    if not explicit:
        return f"{HOST}:{port_from_env(KAFKA_PORT_ENV, DEFAULT_KAFKA_PORT)}"
    servers = [server.strip() for server in explicit.split(",")]
    for server in servers:
        if not _SERVER.match(server) or not 0 < int(server.rsplit(":", 1)[1]) < 65536:
            raise LakehouseError(
                f"{BOOTSTRAP_ENV}={explicit!r}: expected host:port[,host:port...], not {server!r}"
            )
    return ",".join(servers)


def client_options() -> dict[str, str]:
    """LAKEHOUSE_KAFKA_OPTIONS: a JSON object of Kafka client properties (`{}` when unset).

    Errors name the offending property, never a value (values may be credentials)."""
    raw = os.environ.get(OPTIONS_ENV, "").strip()
    if not raw:
        return {}
    try:
        parsed: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LakehouseError(
            f"{OPTIONS_ENV} is not valid JSON (line {exc.lineno}, column {exc.colno}): "
            'expected an object such as {"security.protocol": "SASL_SSL"}'
        ) from None
    if not isinstance(parsed, dict):
        raise LakehouseError(
            f'{OPTIONS_ENV} must be a JSON object such as {{"security.protocol": "SASL_SSL"}}'
        )
    options = {}
    for key, value in parsed.items():
        name = key.strip().removeprefix("kafka.")
        if name in RESERVED_OPTIONS:
            where = BOOTSTRAP_ENV if name == "bootstrap.servers" else "the runtime"
            raise LakehouseError(f"{OPTIONS_ENV} sets {name!r}, which {where} sets")
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, str | int | float) or not name:
            raise LakehouseError(f"{OPTIONS_ENV}: property {key!r} needs a string, number or boolean value")
        options[name] = str(value)
    return options


@dataclass(frozen=True)
class KafkaConnection:
    """Where the runtime's broker is and the extra client properties to reach it with."""

    bootstrap: str
    options: Mapping[str, str] = field(default_factory=dict, repr=False)  # may hold credentials

    @classmethod
    def from_env(cls) -> KafkaConnection:
        return cls(bootstrap_servers(), client_options())

    def spark_options(self) -> dict[str, str]:
        """The options of Spark's Kafka source: every client property as `kafka.<name>`."""
        return {
            "kafka.bootstrap.servers": self.bootstrap,
            **{f"kafka.{name}": value for name, value in self.options.items()},
        }


# Java client properties that librdkafka (the metadata and offsets client) knows by the same name
SHARED_OPTIONS = frozenset(
    {
        "client.id",
        "group.id",
        "security.protocol",
        "sasl.mechanism",
        "sasl.kerberos.service.name",
        "ssl.keystore.location",
        "ssl.keystore.password",
        "ssl.key.password",
        "ssl.endpoint.identification.algorithm",
    }
)
_JAAS_CREDENTIAL = re.compile(r'\b(username|password)\s*=\s*"((?:[^"\\]|\\.)*)"')


def native_conf(options: Mapping[str, str]) -> dict[str, str]:
    """`options` (Java client properties, as Spark's consumer takes them) for librdkafka: the
    properties both clients share, the user name and password of a PLAIN or SCRAM
    `sasl.jaas.config`, and a PEM trust store as `ssl.ca.location`. Anything else is Spark's only."""
    conf = {name: value for name, value in options.items() if name in SHARED_OPTIONS}
    if conf.get("ssl.endpoint.identification.algorithm") == "":
        conf["ssl.endpoint.identification.algorithm"] = "none"
    jaas = options.get("sasl.jaas.config", "")
    if "PlainLoginModule" in jaas or "ScramLoginModule" in jaas:
        for name, value in _JAAS_CREDENTIAL.findall(jaas):
            conf[f"sasl.{name}"] = re.sub(r"\\(.)", r"\1", value)
    if options.get("ssl.truststore.type", "").upper() == "PEM" and "ssl.truststore.location" in options:
        conf["ssl.ca.location"] = options["ssl.truststore.location"]
    return conf


def _client(kind: type[Any], conf: dict[str, Any], options: Mapping[str, str]) -> Any:
    try:
        return kind({**conf, **native_conf(options)})
    except KafkaException:
        # librdkafka's message may quote a value, and a value may be a credential
        raise LakehouseError(
            f"the Kafka client refuses the properties {OPTIONS_ENV} gives it: "
            f"{', '.join(sorted(native_conf(options))) or '(none)'}"
        ) from None


def admin(bootstrap: str, options: Mapping[str, str] | None = None) -> AdminClient:
    return _client(AdminClient, {"bootstrap.servers": bootstrap, "log_level": 2}, options or {})


def reachable(bootstrap: str, timeout: float = 2.0, options: Mapping[str, str] | None = None) -> bool:
    try:
        metadata = admin(bootstrap, options).list_topics(timeout=timeout)
    except KafkaException:
        return False
    return bool(metadata.brokers)


def partitions(bootstrap: str, options: Mapping[str, str] | None = None) -> dict[str, int]:
    """Every topic (Kafka's internal ones left out) and its number of partitions."""
    try:
        metadata = admin(bootstrap, options).list_topics(timeout=TIMEOUT_SECONDS)
    except KafkaException as exc:
        hint = (
            f"check {BOOTSTRAP_ENV} and {OPTIONS_ENV}"
            if os.environ.get(BOOTSTRAP_ENV, "").strip()
            else "start it with `lakehouse-dev streaming up`"
        )
        raise LakehouseError(f"Kafka on {bootstrap} does not answer ({exc}); {hint}") from exc
    return {
        name: len(topic.partitions) for name, topic in metadata.topics.items() if not name.startswith("_")
    }


def offsets(
    bootstrap: str, topics: list[str], options: Mapping[str, str] | None = None
) -> dict[tuple[str, int], tuple[int, int]]:
    """(topic, partition) -> (earliest, end) offset: the records a topic holds, per partition.

    Producers here are idempotent but not transactional, so offsets are contiguous and
    `end - earliest` is the number of records."""
    known = partitions(bootstrap, options)
    consumer = _client(
        Consumer,
        {"bootstrap.servers": bootstrap, "group.id": "lakehouse-offsets", "log_level": 2},
        options or {},
    )
    try:
        found = {}
        for topic in topics:
            for partition in range(known.get(topic, 0)):
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), TIMEOUT_SECONDS)
                found[(topic, partition)] = (int(low), int(high))
        return found
    finally:
        consumer.close()
