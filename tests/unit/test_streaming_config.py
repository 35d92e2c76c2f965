"""The streaming services' configuration as rendered text, Ivy's module file, and the pieces of
`streaming` that need no running service."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from lakehouse import connectors, ivy
from lakehouse.config import Settings
from lakehouse.errors import LakehouseError
from lakehouse_dev.generate.sinks import postgres as postgres_sink
from lakehouse_dev.streaming import render, services
from lakehouse_dev.streaming.config import CONNECT_PASSWORD_ENV, StreamingConfig


@pytest.fixture
def config(tmp_path: Path) -> StreamingConfig:
    return replace(StreamingConfig(Settings.from_env()), settings=replace(Settings.from_env(), home=tmp_path))


def parse_properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_every_listener_is_on_loopback(config: StreamingConfig) -> None:
    kafka = parse_properties(render.kafka_server(config))
    for key in ("listeners", "advertised.listeners", "controller.quorum.bootstrap.servers"):
        hosts = {entry.split("//")[-1].rsplit(":", 1)[0] for entry in kafka[key].split(",")}
        assert hosts == {"127.0.0.1"}, key
    assert parse_properties(render.connect_worker(config))["listeners"] == "http://127.0.0.1:18083"
    assert "listen_addresses = '127.0.0.1'" in render.postgresql_conf(config)


def test_the_broker_keeps_old_timestamps_and_creates_no_topic_by_itself(config: StreamingConfig) -> None:
    kafka = parse_properties(render.kafka_server(config))
    assert kafka["log.retention.ms"] == "-1"  # generated arrival times are months old
    assert kafka["auto.create.topics.enable"] == "false"
    assert kafka["log.dirs"] == str(config.kafka_data)


def test_the_password_never_appears_in_a_file(config: StreamingConfig) -> None:
    connector = parse_properties(render.shop_connector(config))
    assert connector["database.password"] == f"${{env:{CONNECT_PASSWORD_ENV}}}"
    worker = parse_properties(render.connect_worker(config))
    assert worker["config.providers"] == "env"


def test_debezium_writes_the_standard_envelope_per_table(config: StreamingConfig) -> None:
    connector = parse_properties(render.shop_connector(config))
    assert connector["plugin.name"] == "pgoutput"
    assert connector["tombstones.on.delete"] == "true"
    assert connector["table.include.list"] == "public.users,public.products,public.orders"
    worker = parse_properties(render.connect_worker(config))
    assert worker["value.converter.schemas.enable"] == "false"


def test_every_shop_table_has_full_replica_identity_and_is_published() -> None:
    statements = render.shop_schema()
    for table in ("users", "products", "orders"):
        assert f"alter table public.{table} replica identity full" in statements
    assert any(s.startswith("create publication dbz_shop for table public.users") for s in statements)


def test_components_bring_what_they_need_in_start_order() -> None:
    assert services.selected(["connect"]) == ["kafka", "postgres", "connect"]
    assert services.selected([]) == ["kafka", "postgres", "connect"]
    assert services.selected(["postgres"]) == ["postgres"]
    with pytest.raises(LakehouseError, match="unknown component"):
        services.selected(["zookeeper"])


def test_a_kraft_cluster_id_is_22_url_safe_characters() -> None:
    ids = {services.new_cluster_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", i) for i in ids)


def test_missing_postgres_binaries_are_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAKEHOUSE_PG_BIN", str(tmp_path))
    monkeypatch.setattr(services.shutil, "which", lambda name: None)
    with pytest.raises(LakehouseError, match=r"apt-get install postgresql") as caught:
        services.pg_bin(packages=tmp_path)
    assert "\n" not in str(caught.value)


def test_ivy_module_pins_a_transitive_version_and_names_a_plugin_tarball() -> None:
    text = ivy.module_xml(
        [
            ivy.Dependency("org.apache.spark:spark-sql-kafka-0-10_2.13:4.1.3", "jars"),
            ivy.Dependency(
                "io.debezium:debezium-connector-postgres:3.6.1.Final", "plugin", "tar.gz:plugin", False
            ),
        ],
        {"org.apache.spark:spark-token-provider-kafka-0-10_2.13": "4.1.1"},
    )
    assert (
        '<override org="org.apache.spark" module="spark-token-provider-kafka-0-10_2.13" rev="4.1.1"/>' in text
    )
    assert 'type="tar.gz" ext="tar.gz" m:classifier="plugin"' in text
    assert 'conf="plugin->master" transitive="false"' in text


def test_kafka_connector_coordinate_names_the_pinned_token_provider() -> None:
    coordinate = connectors.kafka_coordinate()
    assert coordinate.startswith(f"org.apache.spark:spark-sql-kafka-0-10_2.13:{connectors.spark_minor()}.")
    assert "+org.apache.spark:spark-token-provider-kafka-0-10_2.13:" in coordinate


def test_the_shop_history_is_applied_snapshot_first_then_in_commit_order() -> None:
    from lakehouse_dev.generate.config import GenerateConfig
    from lakehouse_dev.generate.core import build

    history = postgres_sink.changes(build(GenerateConfig(scale_events=600, days=2, seed=3)).feeds)
    ops = [change.op for change in history]
    first_change = ops.index(next(op for op in ops if op != "r"))
    assert set(ops[:first_change]) == {"r"}
    assert "r" not in ops[first_change:]
    lsns = [change.lsn for change in history[first_change:]]
    assert lsns == sorted(lsns)
    assert {"c", "u", "d"} <= set(ops)
