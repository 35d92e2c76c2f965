"""The runtime's Kafka connection from configuration: the broker address, extra client properties
(security protocol, SASL, TLS) handed to Spark's Kafka source and to the metadata client, and no
credential in an error message or a repr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lakehouse.config import Settings
from lakehouse.errors import LakehouseError
from lakehouse.ingest import kafka, topics
from lakehouse.ingest.topics import BOOTSTRAP_ENV, OPTIONS_ENV, KafkaConnection

SECRET = "s3cr3t-Pa55"
JAAS = (
    f'org.apache.kafka.common.security.scram.ScramLoginModule required username="ingest" password="{SECRET}";'
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (BOOTSTRAP_ENV, OPTIONS_ENV, "LAKEHOUSE_KAFKA_PORT"):
        monkeypatch.delenv(name, raising=False)


def test_the_default_broker_is_the_loopback_one_the_dev_tools_start(monkeypatch: pytest.MonkeyPatch) -> None:
    assert topics.bootstrap_servers() == "127.0.0.1:19092"
    monkeypatch.setenv("LAKEHOUSE_KAFKA_PORT", "29092")
    assert topics.bootstrap_servers() == "127.0.0.1:29092"
    assert KafkaConnection.from_env() == KafkaConnection("127.0.0.1:29092", {})


def test_the_broker_address_comes_from_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_KAFKA_PORT", "29092")  # only the default's port: ignored here
    monkeypatch.setenv(BOOTSTRAP_ENV, " kafka-1.prod.internal:9093, kafka-2.prod.internal:9093,[::1]:9092 ")
    assert topics.bootstrap_servers() == "kafka-1.prod.internal:9093,kafka-2.prod.internal:9093,[::1]:9092"


@pytest.mark.parametrize("value", ["kafka-1", "kafka-1:", "kafka-1:99999", "http://kafka-1:9092", "a:1,,b:2"])
def test_a_malformed_broker_address_is_one_line(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(BOOTSTRAP_ENV, value)
    with pytest.raises(LakehouseError, match=BOOTSTRAP_ENV):
        topics.bootstrap_servers()


def test_extra_consumer_options_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        OPTIONS_ENV,
        json.dumps(
            {
                "security.protocol": "SASL_SSL",
                "kafka.sasl.mechanism": "SCRAM-SHA-512",  # Spark's spelling works too
                "sasl.jaas.config": JAAS,
                "request.timeout.ms": 60000,
                "check.crcs": True,
            }
        ),
    )
    assert topics.client_options() == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.jaas.config": JAAS,
        "request.timeout.ms": "60000",
        "check.crcs": "true",
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (f'{{"sasl.jaas.config": "{SECRET}"', "not valid JSON"),
        (f'["{SECRET}"]', "must be a JSON object"),
        (json.dumps({"bootstrap.servers": "kafka:9092"}), BOOTSTRAP_ENV),
        (json.dumps({"kafka.auto.offset.reset": "latest"}), r"auto\.offset\.reset"),
        (json.dumps({"sasl.jaas.config": {"password": SECRET}}), r"sasl\.jaas\.config"),
    ],
)
def test_bad_options_are_one_line_that_never_quotes_a_value(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv(OPTIONS_ENV, value)
    with pytest.raises(LakehouseError, match=message) as raised:
        topics.client_options()
    assert SECRET not in str(raised.value)


def test_spark_gets_every_property_and_the_metadata_client_what_librdkafka_knows() -> None:
    options = {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.jaas.config": JAAS,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": "/etc/kafka/ca.pem",
        "ssl.endpoint.identification.algorithm": "",
        "max.poll.records": "1000",
    }
    connection = KafkaConnection("kafka-1:9093", options)
    assert connection.spark_options() == {
        "kafka.bootstrap.servers": "kafka-1:9093",
        **{f"kafka.{name}": value for name, value in options.items()},
    }
    assert topics.native_conf(options) == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "ingest",
        "sasl.password": SECRET,
        "ssl.ca.location": "/etc/kafka/ca.pem",
        "ssl.endpoint.identification.algorithm": "none",
    }
    assert SECRET not in repr(connection)


def test_the_metadata_client_accepts_the_translated_properties() -> None:
    options = {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.jaas.config": JAAS}
    topics.admin("127.0.0.1:9", options)  # no broker needed: librdkafka checks its configuration here
    with pytest.raises(LakehouseError, match=r"security\.protocol") as raised:
        topics.admin("127.0.0.1:9", {"security.protocol": SECRET})
    assert SECRET not in str(raised.value)


class _Recorder:
    """Spark's DataStreamReader/Writer as far as `start_stream` uses them: records every option."""

    def __init__(self) -> None:
        self.recorded: dict[str, str] = {}

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> _Recorder:
            if name == "option":
                self.recorded[args[0]] = args[1]
            elif name == "options":
                self.recorded.update(kwargs)
            return self

        return call

    @property
    def readStream(self) -> _Recorder:  # noqa: N802  (Spark's name)
        return self

    @property
    def writeStream(self) -> _Recorder:  # noqa: N802
        return self


def test_the_streaming_reader_uses_the_configured_broker_and_options(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(BOOTSTRAP_ENV, "kafka-1.prod.internal:9093")
    monkeypatch.setenv(OPTIONS_ENV, json.dumps({"security.protocol": "SASL_SSL", "sasl.jaas.config": JAAS}))
    spark = _Recorder()
    settings = Settings.from_env()
    kafka.start_stream(
        spark,  # type: ignore[arg-type]
        settings,
        KafkaConnection.from_env(),
        "events",
        topics.EVENTS_TOPIC,
        writer=None,
        max_offsets=10,
        checkpoint_name="kafka",
    )
    assert spark.recorded["kafka.bootstrap.servers"] == "kafka-1.prod.internal:9093"
    assert spark.recorded["kafka.security.protocol"] == "SASL_SSL"
    assert spark.recorded["kafka.sasl.jaas.config"] == JAAS
    assert spark.recorded["subscribe"] == topics.EVENTS_TOPIC


def test_the_driver_binds_to_loopback_only_on_the_embedded_spark(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Local Spark and the loopback broker: driver on 127.0.0.1. A cluster's executors must reach
    the driver at its own address, so there nothing is pinned."""
    jar = tmp_path / "spark-sql-kafka.jar"
    jar.write_bytes(b"")
    monkeypatch.setattr(kafka.connectors, "installed_jars", lambda name: [jar])
    for master in ("local[*]", "local[2]", "local"):
        monkeypatch.setenv("LAKEHOUSE_SPARK_MASTER", master)
        conf = kafka.spark_conf(Settings.from_env())
        assert conf["spark.driver.bindAddress"] == conf["spark.driver.host"] == "127.0.0.1"
        assert str(jar) in conf["spark.jars"].split(",")
    for master in ("spark://10.0.0.5:7077", "yarn", "k8s://https://api.example:6443", "localhost-cluster"):
        monkeypatch.setenv("LAKEHOUSE_SPARK_MASTER", master)
        conf = kafka.spark_conf(Settings.from_env())
        assert not {"spark.driver.host", "spark.driver.bindAddress"} & set(conf), master
        assert str(jar) in conf["spark.jars"].split(",")
