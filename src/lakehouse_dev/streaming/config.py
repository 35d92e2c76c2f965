"""Where the streaming services keep their state, which loopback ports they use, which versions run.

State lives under `$LAKEHOUSE_HOME/streaming/` (data, logs, pid files, rendered configuration); the
jars under the checkout's `.jars/` (fetched once by `make streaming-setup`). Ports default to
numbers unlikely to collide with system services and can be moved with environment variables.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from lakehouse.config import Settings
from lakehouse.connectors import jars_root
from lakehouse.ingest.topics import (  # noqa: F401  (the runtime's names, re-exported for the tools)
    CDC_TOPIC_PREFIX,
    DEFAULT_KAFKA_PORT,
    EVENTS_PARTITIONS,
    EVENTS_TOPIC,
    HOST,
    KAFKA_PORT_ENV,
    cdc_topic,
    port_from_env,
)

# Debezium 3.6.1.Final is built against Kafka 4.3.0; 4.3.2 is the newest patch of that line.
KAFKA_VERSION = "4.3.2"
DEBEZIUM_VERSION = "3.6.1.Final"
# Kafka's poms bring slf4j-api 1.7 and no logging backend: log4j2 with its slf4j2 binding is added,
# and slf4j-api 2 pinned (slf4j 1.7 with the slf4j2 binding silently logs nothing).
SLF4J_VERSION = "2.0.17"
LOG4J_VERSION = "2.25.5"

SHOP_TABLES = ("users", "products", "orders")
CONNECTOR_NAME = "shop-postgres"
SLOT_NAME = "dbz_shop"
PUBLICATION = "dbz_shop"
SHOP_DATABASE = "shop"
DEBEZIUM_USER = "debezium"
ADMIN_USER = "postgres"
# the Debezium role's password; when unset, `up` makes a new one each time it starts Connect and
# hands it over in Connect's environment only: it is never written to disk
PASSWORD_ENV = "LAKEHOUSE_PG_PASSWORD"
CONNECT_PASSWORD_ENV = "PG_DEBEZIUM_PASSWORD"  # what the connector's `${env:...}` reads


_port = port_from_env


@dataclass(frozen=True)
class StreamingConfig:
    settings: Settings
    kafka_port: int = DEFAULT_KAFKA_PORT
    controller_port: int = 19093
    connect_port: int = 18083
    pg_port: int = 15432

    @classmethod
    def from_env(cls) -> StreamingConfig:
        return cls(
            settings=Settings.from_env(),
            kafka_port=_port(KAFKA_PORT_ENV, DEFAULT_KAFKA_PORT),
            controller_port=_port("LAKEHOUSE_KAFKA_CONTROLLER_PORT", 19093),
            connect_port=_port("LAKEHOUSE_CONNECT_PORT", 18083),
            pg_port=_port("LAKEHOUSE_PG_PORT", 15432),
        )

    @property
    def state_dir(self) -> Path:
        return self.settings.home / "streaming"

    @property
    def conf_dir(self) -> Path:
        return self.state_dir / "conf"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def kafka_data(self) -> Path:
        return self.state_dir / "data" / "kafka"

    @property
    def pg_data(self) -> Path:
        return self.state_dir / "data" / "postgres"

    @property
    def pg_socket_dir(self) -> Path:
        return self.run_dir / "pg"

    @property
    def connect_offsets(self) -> Path:
        return self.state_dir / "data" / "connect" / "connect.offsets"

    @property
    def broker_jars(self) -> Path:
        return jars_root() / "kafka-broker"

    @property
    def plugins_dir(self) -> Path:
        return jars_root() / "debezium-postgres"

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.kafka_port}"

    @property
    def connect_url(self) -> str:
        return f"http://{HOST}:{self.connect_port}"

    def pg_dsn(self, database: str = SHOP_DATABASE) -> str:
        """The admin's connection: the private Unix socket, no password (trust on the socket only)."""
        return f"host={self.pg_socket_dir} port={self.pg_port} user={ADMIN_USER} dbname={database}"


def debezium_password() -> str:
    """LAKEHOUSE_PG_PASSWORD, or a new random password (held in memory and in Connect's environment)."""
    return os.environ.get(PASSWORD_ENV) or secrets.token_urlsafe(24)
