"""Debezium change feeds for users, products and orders, consistent with the clickstream.

Every feed: a snapshot (`r`) or creates (`c`), several updates (`u`) to some keys, a few deletes
(`d`), an LSN that increases with commit time, and delivery that is partly out of order or late.
Orders follow their purchase events exactly (same order_id, user, total and currency).

The envelope is the one Debezium 3.6's PostgreSQL connector writes (JSON, schemas off; real
samples in tests/streaming/samples): the full `source` block, payload timestamps as ISO-8601 UTC
strings with microseconds, and every snapshot row carrying the same LSN (the snapshot's position)
with `source.snapshot` marking the first and last row. A later change may carry that same LSN, so
an LSN orders a key's changes only together with the op (`r` first). Tombstones are not landed: a
file sink has no line for a null Kafka value; they exist on the Kafka path, from Debezium itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.contracts.cdc import ORDER_STATUSES
from lakehouse_dev.generate import jsonl
from lakehouse_dev.generate import reference as ref
from lakehouse_dev.generate.clickstream import CURRENCIES, Clickstream
from lakehouse_dev.generate.config import DAY_MS, HOUR_MS, GenerateConfig
from lakehouse_dev.generate.world import World, zero_padded

OPS = np.array(["c", "u", "d", "r"])
CREATE, UPDATE, DELETE, READ = range(4)


@dataclass
class ChangeFeed:
    """One row per change, in delivery order, with its landed JSON line."""

    name: str
    lines: pa.Array
    received_ms: np.ndarray
    op: np.ndarray
    lsn: np.ndarray
    key: np.ndarray  # entity index of the change (for tests)

    def __len__(self) -> int:
        return len(self.lines)


@dataclass
class Versions:
    """Entity states: row i is the state after one change; payloads are its JSON objects."""

    entity: np.ndarray
    ts_ms: np.ndarray
    op: np.ndarray
    payload: pa.Array


def _changes(feed: str, versions: Versions, cfg: GenerateConfig, rng: np.random.Generator) -> ChangeFeed:
    """Envelopes from versions: before = the entity's previous state, after = this one (null on delete)."""
    order = np.lexsort((versions.op == DELETE, versions.ts_ms, versions.entity))
    entity, ts, op = versions.entity[order], versions.ts_ms[order], versions.op[order]
    payload = pc.take(versions.payload, pa.array(order))
    n = len(entity)
    has_before = np.concatenate([[False], entity[1:] == entity[:-1]]) & (op != READ) & (op != CREATE)
    before = jsonl.take(payload, np.where(has_before, np.arange(n) - 1, -1))
    # A delete carries the last state in `before` and null in `after`.
    after = pc.if_else(pa.array(op == DELETE), pa.scalar(None, pa.string()), payload)
    # LSN: commit order, unique for changes committed in the same millisecond, except that every
    # snapshot row carries the snapshot's position (Debezium's `source.lsn` of an `r`).
    snapshot = op == READ
    commit = np.lexsort((entity, ts, ~snapshot))
    lsn = np.empty(n, dtype=np.int64)
    streamed = commit[~snapshot[commit]]
    sorted_ts = ts[streamed]
    new_ms = np.concatenate([[True], sorted_ts[1:] != sorted_ts[:-1]])[: len(streamed)]
    group_start = np.maximum.accumulate(np.where(new_ms, np.arange(len(streamed)), 0))
    lsn[streamed] = sorted_ts * 1000 + (np.arange(len(streamed)) - group_start)
    lsn[snapshot] = ts[snapshot].min() * 1000 if snapshot.any() else 0
    marker = np.where(snapshot, "true", "false").astype(object)
    snapshot_rows = commit[snapshot[commit]]
    if len(snapshot_rows):
        marker[snapshot_rows[0]] = "first_in_data_collection"
        marker[snapshot_rows[-1]] = "last_in_data_collection"
    emitted_ms = ts + rng.integers(5, 2_000, size=n)
    received_ms = emitted_ms + np.where(rng.random(n) < 0.03, DAY_MS, 0)  # some arrive a day late
    lsn_text = jsonl.number_text(lsn)
    lines = jsonl.concat(
        '{"before":',
        pc.fill_null(before, "null"),
        ',"after":',
        pc.fill_null(after, "null"),
        ',"source":{"version":"3.6.1.Final","connector":"postgresql","name":"shop","ts_ms":',
        jsonl.number_text(ts),
        ',"snapshot":"',
        pa.array(marker.astype(str)),
        '","db":"shop","sequence":"[null,\\"',
        lsn_text,
        '\\"]","ts_us":',
        jsonl.number_text(ts * 1000),
        ',"ts_ns":',
        jsonl.number_text(ts * 1_000_000),
        f',"schema":"public","table":"{feed}","txId":',
        jsonl.number_text(lsn // 1000 % 1_000_000_000),
        ',"lsn":',
        lsn_text,
        ',"xmin":null,"origin":null,"origin_lsn":null},"transaction":null,"op":"',
        pa.array(OPS[op]),
        '","ts_ms":',
        jsonl.number_text(emitted_ms),
        ',"ts_us":',
        jsonl.number_text(emitted_ms * 1000),
        ',"ts_ns":',
        jsonl.number_text(emitted_ms * 1_000_000),
        "}",
    )
    # Out-of-order delivery: a few changes overtake up to five neighbours in the log.
    jitter = np.where(rng.random(n) < 0.05, rng.normal(0, 3, size=n), 0.0)
    delivery = np.lexsort((np.argsort(np.argsort(lsn)) + jitter, received_ms // DAY_MS))
    return ChangeFeed(
        feed,
        pc.take(lines, pa.array(delivery)),
        received_ms[delivery],
        op[delivery],
        lsn[delivery],
        entity[delivery],
    )


def _spread(rng: np.random.Generator, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(entity, version number 1..k) for entities with k = counts[entity] updates each."""
    entity = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    return entity, np.arange(len(entity)) - first[entity] + 1


def user_changes(world: World, cfg: GenerateConfig, rng: np.random.Generator, start_ms: int) -> ChangeFeed:
    n = world.n_users
    end_ms = start_ms + cfg.days * DAY_MS
    n_updates = rng.choice([0, 1, 2, 3, 4], size=n, p=[0.85, 0.07, 0.04, 0.025, 0.015])
    upd_user, upd_number = _spread(rng, n_updates)
    upd_ts = rng.integers(start_ms, end_ms, size=len(upd_user))
    upd_ts = upd_ts[np.lexsort((upd_ts, upd_user))]  # update k of a user happens after update k-1
    deleted = rng.choice(n, size=max(1, n // 200), replace=False)
    delete_ts = start_ms + rng.integers(cfg.days * DAY_MS // 2, cfg.days * DAY_MS, size=len(deleted))
    kept = np.ones(len(upd_user), dtype=bool)
    deleted_at = np.full(n, np.iinfo(np.int64).max)
    deleted_at[deleted] = delete_ts
    kept &= upd_ts < deleted_at[upd_user]
    upd_user, upd_number, upd_ts = upd_user[kept], upd_number[kept], upd_ts[kept]

    entity = np.concatenate([np.arange(n), upd_user, deleted])
    number = np.concatenate([np.zeros(n, dtype=np.int64), upd_number, np.full(len(deleted), -1)])
    ts = np.concatenate([np.full(n, start_ms), upd_ts, delete_ts])
    op = np.concatenate([np.full(n, READ), np.full(len(upd_user), UPDATE), np.full(len(deleted), DELETE)])
    # Updates flip the marketing opt-in; from the second update on, the email moved domain too.
    opt_in = world.user_opt_in[entity] ^ (number % 2 == 1)
    emails = jsonl.take(world.user_emails, entity)
    moved = pc.replace_substring(emails, "@mail.example.com", "@inbox.example.net")
    emails = pc.if_else(pa.array(number >= 2), moved, emails)
    countries = pa.array([c[0] for c in ref.COUNTRIES])
    updated_ms = np.where(number == 0, world.user_signup_ms[entity], ts)
    payload = jsonl.json_object(
        [
            jsonl.string_field("user_id", jsonl.take(world.user_ids, entity)),
            jsonl.string_field("email", emails),
            jsonl.string_field("full_name", jsonl.take(world.user_names, entity)),
            jsonl.string_field("country_code", jsonl.take(countries, world.user_country[entity])),
            jsonl.string_field("signup_at", jsonl.iso_utc_micros(world.user_signup_ms[entity])),
            jsonl.raw_field("marketing_opt_in", jsonl.bool_text(opt_in)),
            jsonl.string_field("updated_at", jsonl.iso_utc_micros(updated_ms)),
        ]
    )
    return _changes("users", Versions(entity, ts, op, payload), cfg, rng)


def product_changes(world: World, cfg: GenerateConfig, rng: np.random.Generator, start_ms: int) -> ChangeFeed:
    n = world.n_products
    end_ms = start_ms + cfg.days * DAY_MS
    # Existing catalogue: snapshot, then for re-priced products the price change the clickstream
    # already uses, then maybe deactivation and reactivation.
    repriced = np.flatnonzero(world.product_price_change_ms < end_ms)
    extra = rng.choice([0, 1, 2], size=len(repriced), p=[0.6, 0.25, 0.15])
    ext_idx, ext_number = _spread(rng, extra)
    ext_entity = repriced[ext_idx]
    ext_ts = world.product_price_change_ms[ext_entity] + ext_number * rng.integers(
        HOUR_MS, DAY_MS, size=len(ext_idx)
    )
    keep = ext_ts < end_ms
    # New products launched during the period (no traffic yet); half are withdrawn again.
    n_new = max(2, n // 100)
    new_entity = n + np.arange(n_new)
    new_ts = start_ms + rng.integers(0, cfg.days * DAY_MS // 2, size=n_new)
    withdrawn = new_entity[: n_new // 2]
    withdrawn_ts = new_ts[: n_new // 2] + rng.integers(HOUR_MS, cfg.days * DAY_MS // 2, size=len(withdrawn))

    entity = np.concatenate([np.arange(n), repriced, ext_entity[keep], new_entity, withdrawn])
    number = np.concatenate(
        [
            np.zeros(n, dtype=np.int64),
            np.ones(len(repriced), dtype=np.int64),
            ext_number[keep] + 1,
            np.zeros(n_new, dtype=np.int64),
            np.zeros(len(withdrawn), dtype=np.int64),
        ]
    )
    ts = np.concatenate(
        [np.full(n, start_ms), world.product_price_change_ms[repriced], ext_ts[keep], new_ts, withdrawn_ts]
    )
    op = np.concatenate(
        [
            np.full(n, READ),
            np.full(len(repriced) + int(keep.sum()), UPDATE),
            np.full(n_new, CREATE),
            np.full(len(withdrawn), DELETE),
        ]
    )
    is_new = entity >= n
    existing = np.where(is_new, 0, entity)
    new_category = rng.integers(0, len(world.category_sizes), size=n_new)
    category = np.where(is_new, new_category[np.maximum(entity - n, 0)], world.product_category[existing])
    price = np.where(number >= 1, world.product_new_price_usd[existing], world.product_price_usd[existing])
    price = np.where(is_new, 49.99, price)
    active = ~((number >= 2) & (number % 2 == 0))
    ids = pa.concat_arrays(
        [world.product_ids, pa.array(zero_padded("p_", np.arange(n + 1, n + n_new + 1), 6))]
    )
    names = pa.concat_arrays(
        [world.product_names, pa.array(np.char.add("Launch Edition ", np.arange(1, n_new + 1).astype(str)))]
    )
    leaves = ref.leaf_categories()
    payload = jsonl.json_object(
        [
            jsonl.string_field("product_id", jsonl.take(ids, entity)),
            jsonl.string_field("product_name", jsonl.take(names, entity)),
            jsonl.string_field("category_id", jsonl.take(pa.array([c[0] for c in leaves]), category)),
            jsonl.string_field("brand", jsonl.take(pa.array(ref.BRANDS), world.product_brand[existing])),
            jsonl.raw_field("price", jsonl.number_text(price)),
            jsonl.string_field("currency", pa.array(np.full(len(entity), "USD"))),
            jsonl.raw_field("is_active", jsonl.bool_text(active)),
            jsonl.string_field("updated_at", jsonl.iso_utc_micros(ts)),
        ]
    )
    return _changes("products", Versions(entity, ts, op, payload), cfg, rng)


def order_changes(
    world: World, clicks: Clickstream, cfg: GenerateConfig, rng: np.random.Generator, start_ms: int
) -> ChangeFeed:
    orders = clicks.orders
    n = len(orders["created_ms"])
    end_ms = start_ms + cfg.days * DAY_MS
    created = orders["created_ms"]
    paid = created + rng.integers(60_000, 30 * 60_000, size=n)
    cancelled = rng.random(n) < 0.04
    shipped = paid + rng.integers(6 * HOUR_MS, 2 * DAY_MS, size=n)
    delivered = shipped + rng.integers(DAY_MS, 4 * DAY_MS, size=n)
    returned = rng.random(n) < 0.05
    returned_at = delivered + rng.integers(2 * DAY_MS, 10 * DAY_MS, size=n)
    never = np.iinfo(np.int64).max
    # Status timeline per order: (status, time) with `never` for steps the order does not take.
    timeline = [
        ("placed", created),
        ("paid", np.where(cancelled, never, paid)),
        ("cancelled", np.where(cancelled, paid, never)),
        ("shipped", np.where(cancelled, never, shipped)),
        ("delivered", np.where(cancelled, never, delivered)),
        ("returned", np.where(cancelled | ~returned, never, returned_at)),
    ]
    entity = np.concatenate([np.arange(n)] * len(timeline))
    status = np.concatenate([np.full(n, ORDER_STATUSES.index(s)) for s, _t in timeline])
    ts = np.concatenate([t for _s, t in timeline])
    happened = ts < end_ms
    entity, status, ts = entity[happened], status[happened], ts[happened]
    op = np.where(status == 0, CREATE, UPDATE)
    payload = jsonl.json_object(
        [
            jsonl.string_field("order_id", jsonl.take(pa.array(orders["order_id"]), entity)),
            jsonl.string_field("user_id", jsonl.take(world.user_ids, orders["user"][entity])),
            jsonl.string_field("order_status", jsonl.take(pa.array(ORDER_STATUSES), status)),
            jsonl.raw_field("order_total", jsonl.number_text(orders["total"][entity])),
            jsonl.string_field("currency", jsonl.take(pa.array(CURRENCIES), orders["currency"][entity])),
            jsonl.raw_field("item_count", jsonl.number_text(orders["quantity"][entity])),
            jsonl.string_field("created_at", jsonl.iso_utc_micros(created[entity])),
            jsonl.string_field("updated_at", jsonl.iso_utc_micros(ts)),
        ]
    )
    return _changes("orders", Versions(entity, ts, op, payload), cfg, rng)
