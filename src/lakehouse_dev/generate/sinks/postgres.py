"""A generation's change history, applied to the shop's PostgreSQL database as real DML.

First the state at the start (the rows the generator snapshots as `r`) is loaded in one
transaction; then change capture is attached (Kafka Connect started if it is not running, so
Debezium's initial snapshot reads those rows as `r`, and waited for until the snapshot has reached
Kafka); then every later change is applied in commit order, in transactions of at most
`TRANSACTION_SIZE` changes. Debezium turns each into a `c`, `u` or `d` (with its tombstone).
A shop holds one generation: applying another needs `lakehouse-dev streaming down --wipe` first.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from psycopg import sql

from lakehouse.contracts.cdc import CDC_CONTRACTS, primary_key
from lakehouse.errors import LakehouseError
from lakehouse_dev.generate.cdc import ChangeFeed
from lakehouse_dev.generate.core import Generated
from lakehouse_dev.streaming import services, shop, topics
from lakehouse_dev.streaming.config import StreamingConfig, cdc_topic

TRANSACTION_SIZE = 500
SNAPSHOT_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class Change:
    lsn: int
    table: str
    op: str
    row: dict[str, Any]  # the row after the change, or before a delete


def changes(feeds: list[ChangeFeed]) -> list[Change]:
    """Every change of every feed in commit order (the generator's LSN order; snapshot reads first)."""
    found = []
    for feed in feeds:
        for line in feed.lines.to_pylist():
            envelope = json.loads(line)
            row = envelope["before"] if envelope["op"] == "d" else envelope["after"]
            found.append(Change(int(envelope["source"]["lsn"]), feed.name, envelope["op"], row))
    return sorted(found, key=lambda change: (change.op != "r", change.lsn))


def _statement(table: str, op: str) -> sql.Composed:
    columns = list(CDC_CONTRACTS[table].field_names)
    key = primary_key(table)
    target = sql.SQL("public.{}").format(sql.Identifier(table))
    if op in ("r", "c"):
        return sql.SQL("insert into {} ({}) values ({})").format(
            target,
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        )
    if op == "u":
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder()) for c in columns if c != key
        )
        return sql.SQL("update {} set {} where {} = {}").format(
            target, assignments, sql.Identifier(key), sql.Placeholder()
        )
    return sql.SQL("delete from {} where {} = {}").format(target, sql.Identifier(key), sql.Placeholder())


def _parameters(change: Change) -> list[Any]:
    columns = list(CDC_CONTRACTS[change.table].field_names)
    key = primary_key(change.table)
    if change.op in ("r", "c"):
        return [change.row.get(c) for c in columns]
    if change.op == "u":
        return [*(change.row.get(c) for c in columns if c != key), change.row[key]]
    return [change.row[key]]


def apply(config: StreamingConfig, history: list[Change]) -> dict[str, int]:
    """Run `history` (commit order) against the shop; returns the changes applied per table."""
    counts = {table: 0 for table in CDC_CONTRACTS}
    with shop.connect(config) as connection:
        for start in range(0, len(history), TRANSACTION_SIZE):
            with connection.transaction(), connection.cursor() as cursor:
                chunk = history[start : start + TRANSACTION_SIZE]
                for (table, op), run in groupby(chunk, key=lambda c: (c.table, c.op)):
                    batch = list(run)
                    cursor.executemany(_statement(table, op), [_parameters(c) for c in batch])
                    counts[table] += len(batch)
    return counts


def shop_is_empty(config: StreamingConfig) -> bool:
    with shop.connect(config) as connection:
        for table in CDC_CONTRACTS:
            query = sql.SQL("select exists (select 1 from public.{})").format(sql.Identifier(table))
            row = connection.execute(query).fetchone()
            if row and row[0]:
                return False
    return True


def wait_for_capture(config: StreamingConfig, expected: dict[str, int], timeout: float) -> None:
    """Until each table's topic holds at least `expected[table]` records (Debezium has read them)."""
    deadline = time.monotonic() + timeout
    wanted = {cdc_topic(table): n for table, n in expected.items() if n}
    while True:
        ends = topics.offsets(config, list(wanted))
        held = {topic: sum(end for (t, _p), (_low, end) in ends.items() if t == topic) for topic in wanted}
        if all(held[topic] >= n for topic, n in wanted.items()):
            return
        if time.monotonic() > deadline:
            raise LakehouseError(
                f"Debezium did not deliver the shop's first {sum(wanted.values())} rows in {timeout:.0f}s"
            )
        time.sleep(1.0)


def write(config: StreamingConfig, generated: Generated, progress: Any = print) -> dict[str, int]:
    """Apply the generation to the shop; returns the changes applied per table (cdc_<table>)."""
    if not shop_is_empty(config):
        raise LakehouseError(
            "the shop already holds data and takes one generation: "
            "`lakehouse-dev streaming down --wipe`, then `up`"
        )
    history = changes(generated.feeds)
    initial = [change for change in history if change.op == "r"]
    counts = apply(config, initial)
    progress(f"  postgres: loaded the shop's initial {len(initial):,} rows; attaching change capture")
    services.up(config, ["connect"], progress=lambda m: progress(f"  {m}"))
    wait_for_capture(config, counts, SNAPSHOT_TIMEOUT_SECONDS)
    later = apply(config, [change for change in history if change.op != "r"])
    progress(f"  postgres: applied {sum(later.values()):,} inserts, updates and deletes in commit order")
    return {f"cdc_{table}": counts[table] + later[table] for table in counts}
