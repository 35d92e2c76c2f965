"""The shop's PostgreSQL database, as its administrator sees it (psycopg over the private socket).

Used to create the schema at `up`, to hand Debezium a password, by the generator's PostgreSQL sink
and by the equality check against the lakehouse's current-state models.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from lakehouse.errors import LakehouseError
from lakehouse_dev.streaming import render
from lakehouse_dev.streaming.config import DEBEZIUM_USER, SHOP_DATABASE, SLOT_NAME, StreamingConfig


@contextmanager
def connect(
    config: StreamingConfig, database: str = SHOP_DATABASE, autocommit: bool = False
) -> Iterator[psycopg.Connection]:
    try:
        connection = psycopg.connect(config.pg_dsn(database), autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LakehouseError(
            f"cannot reach PostgreSQL on port {config.pg_port} ({first}); "
            "start it with `lakehouse-dev streaming up`"
        ) from exc
    try:
        yield connection
    finally:
        connection.close()


def database_exists(config: StreamingConfig) -> bool:
    with connect(config, "postgres", autocommit=True) as connection:
        found = connection.execute("select 1 from pg_database where datname = %s", [SHOP_DATABASE]).fetchone()
    return found is not None


def create_shop(config: StreamingConfig) -> None:
    """The Debezium role, the `shop` database, its tables and the publication (once)."""
    with connect(config, "postgres", autocommit=True) as connection:
        role = connection.execute("select 1 from pg_roles where rolname = %s", [DEBEZIUM_USER]).fetchone()
        if role is None:
            connection.execute(
                sql.SQL("create role {} with login replication").format(sql.Identifier(DEBEZIUM_USER))
            )
        connection.execute(sql.SQL("create database {}").format(sql.Identifier(SHOP_DATABASE)))
    with connect(config) as connection, connection.transaction():
        for statement in render.shop_schema():
            connection.execute(statement)


def set_debezium_password(config: StreamingConfig, password: str) -> None:
    """Store only the SCRAM verifier: libpq hashes the password here, so neither the server's log nor
    its catalog ever sees it in clear."""
    with connect(config, "postgres", autocommit=True) as connection:
        verifier = connection.pgconn.encrypt_password(
            password.encode(), DEBEZIUM_USER.encode(), b"scram-sha-256"
        ).decode()
        connection.execute(
            sql.SQL("alter role {} with login replication password {}").format(
                sql.Identifier(DEBEZIUM_USER), sql.Literal(verifier)
            )
        )


def slot_active(config: StreamingConfig) -> bool:
    """True once Debezium's replication slot exists and a walsender is attached to it."""
    with connect(config) as connection:
        row = connection.execute(
            "select active from pg_replication_slots where slot_name = %s", [SLOT_NAME]
        ).fetchone()
    return bool(row and row[0])


def rows(config: StreamingConfig, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """`select *` of a shop table: column names and rows."""
    with connect(config) as connection:
        cursor = connection.execute(sql.SQL("select * from public.{}").format(sql.Identifier(table)))
        names = [column.name for column in cursor.description or []]
        return names, cursor.fetchall()
