"""Every configuration file of the streaming services, rendered as text from `StreamingConfig`.

Pure functions, so the settings that matter (loopback listeners, the password as a placeholder, the
replica identity) are checked by plain string tests. Everything binds to 127.0.0.1.
"""

from __future__ import annotations

from lakehouse_dev.streaming.config import (
    CDC_TOPIC_PREFIX,
    CONNECT_PASSWORD_ENV,
    CONNECTOR_NAME,
    DEBEZIUM_USER,
    HOST,
    PUBLICATION,
    SHOP_DATABASE,
    SHOP_TABLES,
    SLOT_NAME,
    StreamingConfig,
)


def properties(values: dict[str, str | int]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


def kafka_server(config: StreamingConfig) -> str:
    """One KRaft node that is both broker and controller."""
    broker, controller = f"{HOST}:{config.kafka_port}", f"{HOST}:{config.controller_port}"
    return properties(
        {
            "process.roles": "broker,controller",
            "node.id": 1,
            "controller.quorum.bootstrap.servers": controller,
            "listeners": f"PLAINTEXT://{broker},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://{broker},CONTROLLER://{controller}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(config.kafka_data),
            "num.partitions": 1,
            "default.replication.factor": 1,
            "min.insync.replicas": 1,
            "offsets.topic.replication.factor": 1,
            "offsets.topic.num.partitions": 1,
            "transaction.state.log.replication.factor": 1,
            "transaction.state.log.min.isr": 1,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
            "group.initial.rebalance.delay.ms": 0,
            "auto.create.topics.enable": "false",
            # Records carry the generator's arrival times, which may be months old: time-based
            # retention would delete them on arrival. This broker keeps everything until `down --wipe`.
            "log.retention.ms": -1,
            "log.message.timestamp.before.max.ms": 9223372036854775807,
            "log.message.timestamp.after.max.ms": 9223372036854775807,
        }
    )


def log4j2(level: str = "INFO") -> str:
    """Broker and Connect log to stderr, which `services` sends to a log file."""
    return "\n".join(
        [
            "status = warn",
            "appender.console.type = Console",
            "appender.console.name = STDERR",
            "appender.console.target = SYSTEM_ERR",
            "appender.console.layout.type = PatternLayout",
            "appender.console.layout.pattern = [%d] %p %m (%c)%n",
            f"rootLogger.level = {level}",
            "rootLogger.appenderRef.stderr.ref = STDERR",
            "logger.request.name = kafka.request.logger",
            "logger.request.level = WARN",
            "logger.reflections.name = org.reflections",
            "logger.reflections.level = ERROR",
            "",
        ]
    )


def connect_worker(config: StreamingConfig) -> str:
    """Kafka Connect standalone: JSON without per-message schemas, offsets in a local file."""
    return properties(
        {
            "bootstrap.servers": config.bootstrap_servers,
            "listeners": f"http://{HOST}:{config.connect_port}",
            "rest.advertised.host.name": HOST,
            "rest.advertised.port": config.connect_port,
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            # the bare envelope: the inline schema would make every record ten times larger
            "key.converter.schemas.enable": "false",
            "value.converter.schemas.enable": "false",
            "offset.storage.file.filename": str(config.connect_offsets),
            "offset.flush.interval.ms": 1000,
            "plugin.path": str(config.plugins_dir),
            "plugin.discovery": "service_load",
            # secrets from the environment: the REST API shows the placeholder, never the password
            "config.providers": "env",
            "config.providers.env.class": "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
        }
    )


def shop_connector(config: StreamingConfig) -> str:
    """Debezium's PostgreSQL connector: one topic per table, standard envelope, tombstones on."""
    return properties(
        {
            "name": CONNECTOR_NAME,
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "tasks.max": 1,
            "database.hostname": HOST,
            "database.port": config.pg_port,
            "database.user": DEBEZIUM_USER,
            "database.password": f"${{env:{CONNECT_PASSWORD_ENV}}}",
            "database.dbname": SHOP_DATABASE,
            "topic.prefix": CDC_TOPIC_PREFIX,
            "table.include.list": ",".join(f"public.{table}" for table in SHOP_TABLES),
            "plugin.name": "pgoutput",
            "slot.name": SLOT_NAME,
            "publication.name": PUBLICATION,
            "publication.autocreate.mode": "disabled",
            "snapshot.mode": "initial",
            "tombstones.on.delete": "true",
            "decimal.handling.mode": "double",
            "time.precision.mode": "adaptive",
            "topic.creation.default.replication.factor": 1,
            "topic.creation.default.partitions": 1,
        }
    )


def postgresql_conf(config: StreamingConfig) -> str:
    return "\n".join(
        [
            "# written by `lakehouse-dev streaming up`",
            f"listen_addresses = '{HOST}'",
            f"port = {config.pg_port}",
            f"unix_socket_directories = '{config.pg_socket_dir}'",
            "unix_socket_permissions = 0700",
            "wal_level = logical",
            "max_wal_senders = 10",
            "max_replication_slots = 10",
            "max_connections = 50",
            "shared_buffers = 128MB",
            "# a stopped connector cannot fill the disk with the WAL its slot retains",
            "max_slot_wal_keep_size = 2GB",
            "timezone = 'UTC'",
            "log_timezone = 'UTC'",
            "",
        ]
    )


def shop_schema() -> list[str]:
    """The shop's tables as the CDC contracts describe them, published for Debezium.

    Every table has REPLICA IDENTITY FULL, so updates and deletes carry the complete old row in
    `before` (with the default identity a delete's `before` holds only the key, and NOT NULL
    timestamps read 1970-01-01). No foreign key: the generated history deletes users who have orders.
    """
    tables = [
        """create table public.users (
  user_id text primary key,
  email text,
  full_name text,
  country_code char(2),
  signup_at timestamptz,
  marketing_opt_in boolean,
  updated_at timestamptz not null default now()
)""",
        """create table public.products (
  product_id text primary key,
  product_name text,
  category_id text,
  brand text,
  price numeric(12, 2),
  currency char(3),
  is_active boolean,
  updated_at timestamptz not null default now()
)""",
        """create table public.orders (
  order_id text primary key,
  user_id text,
  order_status text
    check (order_status in ('placed', 'paid', 'shipped', 'delivered', 'cancelled', 'returned')),
  order_total numeric(12, 2),
  currency char(3),
  item_count integer,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
)""",
    ]
    listed = ", ".join(f"public.{table}" for table in SHOP_TABLES)
    return [
        *tables,
        *(f"alter table public.{table} replica identity full" for table in SHOP_TABLES),
        f"grant usage on schema public to {DEBEZIUM_USER}",
        f"grant select on {listed} to {DEBEZIUM_USER}",
        # created by the admin, so the connector needs neither ownership nor superuser
        f"create publication {PUBLICATION} for table {listed}",
    ]
