"""Sessions → events, as column arrays: no per-event Python loop anywhere.

Each session belongs to a user, starts at a time drawn from a daily and weekly rhythm, browses
one category (mostly a preferred one) and sometimes ends in a cart, a checkout or a purchase.
Then the delivery is made dirty: client clock skew, retries (duplicates) and late arrival.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from lakehouse.contracts.events import EVENT_TYPES
from lakehouse_dev.generate import reference as ref
from lakehouse_dev.generate.config import DAY_MS, HOUR_MS, GenerateConfig
from lakehouse_dev.generate.world import GROUP_SIZE, World, random_hex, sample_products

PAGE_VIEW, PRODUCT_VIEW, SEARCH, ADD_TO_CART, REMOVE_FROM_CART, BEGIN_CHECKOUT, PURCHASE = range(
    len(EVENT_TYPES)
)
# How a session ends, by kind: nothing, cart, cart + remove, cart + abandoned checkout, purchase.
TAIL_EVENTS = np.array(
    [
        [-1, -1, -1],
        [ADD_TO_CART, -1, -1],
        [ADD_TO_CART, REMOVE_FROM_CART, -1],
        [ADD_TO_CART, BEGIN_CHECKOUT, -1],
        [ADD_TO_CART, BEGIN_CHECKOUT, PURCHASE],
    ],
    dtype=np.int8,
)
TAIL_LENGTH = (TAIL_EVENTS >= 0).sum(axis=1)
CART_RATE = 0.12
# purchase / cart: 30-36% in public logs (OTTO 30.2%, Synerise 31.3%, RetailRocket 32.4%, Taobao
# 36.4%; docs/recommendations.md); ~4% of sessions convert
PURCHASE_GIVEN_CART = 0.33
# Consideration: a cart session puts in the cart a product the user viewed in an earlier session
# with this probability (people come back for what they looked at). 0.4 makes ~30% of purchases
# follow a view of the same product in an earlier session: no public log publishes that share,
# so it is an assumption inside the 25-40% the docs argue for (docs/recommendations.md).
COME_BACK_FOR_VIEWED = 0.4
# Repeat purchase: a later purchase of a user re-buys the user's first purchase with this
# probability by the product's department (replenished goods more often).
REPEAT_PURCHASE = {"Beauty": 0.6}
REPEAT_PURCHASE_OTHER = 0.25
MEAN_BROWSE_EVENTS = 6.0
# Share of sessions starting in each UTC hour: quiet nights, busy evenings.
HOURLY = np.array(
    [2, 1.5, 1, 0.8, 0.8, 1, 1.5, 2.5, 3.5, 4, 4.5, 4.5, 5, 5, 4.5, 4.5, 5, 5.5, 6, 6.5, 7, 6.5, 5, 3.5]
)
WEEKDAY = np.array([1.0, 0.97, 0.97, 1.0, 1.05, 1.2, 1.15])  # Monday..Sunday
# Per event: (column name, dtype); -1 marks "absent" in index columns, 0 in quantity, NaN in price.
EVENT_COLUMNS = (
    "true_ms",
    "event_ms",
    "received_ms",
    "event_type",
    "user",
    "anon",
    "client",
    "country",
    "channel",
    "referrer",
    "campaign",
    "category",
    "static_page",
    "search_term",
    "product",
    "quantity",
    "price",
    "order",
    "experiment",
    "string_numbers",
    "malformed",
    "event_key",
)


@dataclass
class Clickstream:
    events: dict[str, np.ndarray]  # one row per landed line (duplicates included), in landing order
    orders: dict[str, np.ndarray]  # one row per purchase: what the orders CDC feed must agree with
    n_unique_events: int
    n_sessions: int
    n_bot_events: int


def _lookup_tables() -> tuple[list[str], list[str]]:
    referrers = [r for _c, _w, refs, _camps in ref.CHANNELS for r in refs]
    campaigns = [c for _c, _w, _refs, camps in ref.CHANNELS for c in camps]
    return referrers, campaigns


REFERRERS, CAMPAIGNS = _lookup_tables()
CURRENCIES = list(ref.CURRENCY_RATES_TO_USD)
COUNTRY_CURRENCY = np.array([CURRENCIES.index(c[3]) for c in ref.COUNTRIES])
RATES = np.array([ref.CURRENCY_RATES_TO_USD[c] for c in CURRENCIES])


def _pick_from_channel(rng: np.random.Generator, channel: np.ndarray, referrer: bool) -> np.ndarray:
    """Index into REFERRERS (or CAMPAIGNS) of a value of each row's channel, or -1 if it has none."""
    out = np.full(len(channel), -1, dtype=np.int32)
    start = 0
    for number, (_name, _weight, referrers, campaigns) in enumerate(ref.CHANNELS):  # per channel, not event
        options = referrers if referrer else campaigns
        rows = channel == number
        if options:
            out[rows] = start + rng.integers(0, len(options), size=int(rows.sum()))
        start += len(options)
    return out


def _local_price(world: World, product: np.ndarray, at_ms: np.ndarray, currency: np.ndarray) -> np.ndarray:
    safe = np.maximum(product, 0)
    usd = np.where(
        at_ms >= world.product_price_change_ms[safe],
        world.product_new_price_usd[safe],
        world.product_price_usd[safe],
    )
    return np.where(product >= 0, np.round(usd / RATES[currency], 2), np.nan)


def _human_sessions(
    world: World, cfg: GenerateConfig, rng: np.random.Generator, start_ms: int, n_events: int
) -> tuple[dict[str, np.ndarray], int]:
    mean_length = MEAN_BROWSE_EVENTS + CART_RATE * 2.0
    n_sess = max(1, round(n_events / mean_length))
    user = rng.choice(world.n_users, size=n_sess, p=world.user_activity)
    weekday = np.array([(cfg.start_date + timedelta(days=d)).weekday() for d in range(cfg.days)])
    day_p = WEEKDAY[weekday] / WEEKDAY[weekday].sum()
    day = rng.choice(cfg.days, size=n_sess, p=day_p)
    hour = rng.choice(24, size=n_sess, p=HOURLY / HOURLY.sum())
    start = start_ms + day * DAY_MS + hour * HOUR_MS + rng.integers(0, HOUR_MS, size=n_sess)

    slot = (rng.random(n_sess)[:, None] > world.user_pref_p[user]).sum(axis=1).clip(0, 2)
    n_cats = len(world.category_sizes)
    category = np.where(
        rng.random(n_sess) < 0.85,
        world.user_prefs[user, slot],
        rng.choice(n_cats, size=n_sess, p=world.category_weights),
    )
    n_groups = np.ceil(world.category_sizes[category] / GROUP_SIZE)
    group = (
        (np.floor(np.power(n_groups + 1.0, rng.random(n_sess))) - 1).clip(0, n_groups - 1).astype(np.int64)
    )

    cart = rng.random(n_sess) < CART_RATE
    bought = cart & (rng.random(n_sess) < PURCHASE_GIVEN_CART)
    removed = cart & ~bought & (rng.random(n_sess) < 0.25)
    abandoned = cart & ~bought & ~removed & (rng.random(n_sess) < 0.3)
    kind = np.select([bought, abandoned, removed, cart], [4, 3, 2, 1], 0)
    logged_in = bought | (rng.random(n_sess) < 0.55)
    client = np.where(
        rng.random(n_sess) < 0.85, world.user_client[user], rng.integers(0, len(ref.CLIENTS), size=n_sess)
    )
    channel_p = np.array([c[1] for c in ref.CHANNELS])
    channel = rng.choice(len(ref.CHANNELS), size=n_sess, p=channel_p / channel_p.sum())
    quantity = rng.choice([1, 2, 3], size=n_sess, p=[0.75, 0.18, 0.07])

    n_browse = np.minimum(rng.geometric(1.0 / MEAN_BROWSE_EVENTS, size=n_sess), 60)
    n_browse = np.where(cart, np.maximum(n_browse, 2), n_browse)
    n_ev = n_browse + TAIL_LENGTH[kind]
    total = int(n_ev.sum())
    sess = np.repeat(np.arange(n_sess), n_ev)
    first = np.cumsum(n_ev) - n_ev
    pos = np.arange(total) - first[sess]
    browse_len = n_browse[sess]
    is_tail = pos >= browse_len

    etype = rng.choice([PAGE_VIEW, PRODUCT_VIEW, SEARCH], size=total, p=[0.35, 0.5, 0.15]).astype(np.int8)
    etype[pos == 0] = PAGE_VIEW  # sessions land on a page
    etype[(pos == browse_len - 1) & cart[sess]] = PRODUCT_VIEW  # the product that goes in the cart
    etype = np.where(is_tail, TAIL_EVENTS[kind[sess], np.where(is_tail, pos - browse_len, 0)], etype)

    # Gaps between events: seconds to minutes, always well under a 30-minute inactivity timeout.
    gaps = np.clip(rng.lognormal(np.log(30_000), 0.9, size=total), 2_000, 25 * 60_000).astype(np.int64)
    gaps[pos == 0] = 0
    elapsed = np.cumsum(gaps)
    true_ms = start[sess] + elapsed - elapsed[first[sess]]

    product = np.full(total, -1, dtype=np.int64)
    views = etype == PRODUCT_VIEW
    product[views] = sample_products(world, rng, category[sess][views], group[sess][views])
    # the product a cart session puts in the cart: its last browse event, a product view
    carted_at = first + n_browse - 1
    remembered = _one_viewed_product(sess, etype, product, is_tail, n_sess, rng)
    earlier = _earlier_session(user, start, rng, COME_BACK_FOR_VIEWED)
    again = cart & (earlier >= 0) & (remembered[np.maximum(earlier, 0)] >= 0)
    product[carted_at[again]] = remembered[earlier[again]]
    product[carted_at[bought]] = _repeat_purchases(
        world, user, start, product[carted_at[bought]], bought, rng
    )
    last_view = np.maximum.accumulate(np.where(product >= 0, np.arange(total), 0))
    product = np.where(is_tail, product[last_view], product)

    country = world.user_country[user][sess]
    currency = COUNTRY_CURRENCY[country]
    is_commerce = etype >= ADD_TO_CART
    priced = product >= 0
    static_page = np.where(rng.random(total) < 0.5, -1, rng.integers(0, len(ref.STATIC_PAGES), size=total))
    first_event = pos == 0
    return {
        "true_ms": true_ms,
        "event_type": etype,
        "user": np.where(logged_in[sess], user[sess], -1),
        "anon": user[sess],
        "client": client[sess],
        "country": country,
        "channel": channel[sess],
        "referrer": np.where(first_event, _pick_from_channel(rng, channel, referrer=True)[sess], -1),
        "campaign": np.where(first_event, _pick_from_channel(rng, channel, referrer=False)[sess], -1),
        "category": category[sess],
        "static_page": static_page,
        "search_term": np.where(
            etype == SEARCH,
            category[sess] * len(ref.SEARCH_MODIFIERS) + rng.integers(0, len(ref.SEARCH_MODIFIERS), total),
            -1,
        ),
        "product": product,
        "quantity": np.where(is_commerce, quantity[sess], 0),
        "price": np.where(priced, _local_price(world, product, true_ms, currency), np.nan),
    }, n_sess


def _one_viewed_product(
    sess: np.ndarray,
    etype: np.ndarray,
    product: np.ndarray,
    is_tail: np.ndarray,
    n_sess: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Per session: one of the products it viewed (uniformly among its product views), or -1."""
    views = np.flatnonzero((etype == PRODUCT_VIEW) & ~is_tail & (product >= 0))
    if len(views) == 0:
        return np.full(n_sess, -1, dtype=np.int64)
    count = np.bincount(sess[views], minlength=n_sess)
    first = np.cumsum(count) - count  # a session's events, and so its views, are contiguous
    pick = np.minimum(first + (rng.random(n_sess) * count).astype(np.int64), len(views) - 1)
    return np.where(count > 0, product[views[pick]], -1)


def _earlier_session(
    user: np.ndarray, start: np.ndarray, rng: np.random.Generator, share: float
) -> np.ndarray:
    """Per session, with probability `share`: an earlier session of the same user to come back
    to, the more recent the likelier (1, 2, 3... sessions back with probability 1/2, 1/4, 1/8...,
    the oldest when fewer); else, or without an earlier session, -1."""
    n = len(user)
    order = np.lexsort((start, user))
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    first_of_user = np.searchsorted(user[order], user, side="left")
    target = np.maximum(position - rng.geometric(0.5, size=n), first_of_user)
    chosen = (target < position) & (rng.random(n) < share)
    return np.where(chosen, order[target], -1)


def _repeat_purchases(
    world: World,
    user: np.ndarray,
    start: np.ndarray,
    product: np.ndarray,
    bought: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """The products of the buying sessions (`product`, in session order of `bought`), where a
    user's later purchases re-buy the user's first purchase with REPEAT_PURCHASE's probability."""
    buyer, when = user[bought], start[bought]
    order = np.lexsort((when, buyer))
    first_of_user = order[np.searchsorted(buyer[order], buyer, side="left")]
    departments = [dept for _cid, _name, dept, _weight in ref.leaf_categories()]
    rate = np.array([REPEAT_PURCHASE.get(dept, REPEAT_PURCHASE_OTHER) for dept in departments])
    first_product = product[first_of_user]
    later = when > when[first_of_user]
    repeat = later & (rng.random(len(product)) < rate[world.product_category[first_product]])
    return np.where(repeat, first_product, product)


def _bot_events(
    world: World, cfg: GenerateConfig, rng: np.random.Generator, start_ms: int, n: int
) -> dict[str, np.ndarray]:
    shares = np.array([share for _ua, share in ref.HEAVY_BOTS])
    bot = rng.choice(len(shares), size=n, p=shares / shares.sum())
    etype = np.where(rng.random(n) < 0.55, PAGE_VIEW, PRODUCT_VIEW).astype(np.int8)
    product = np.where(etype == PRODUCT_VIEW, rng.integers(0, world.n_products, size=n), -1)
    true_ms = np.sort(start_ms + rng.integers(0, cfg.days * DAY_MS, size=n))
    us = ref.COUNTRIES.index(next(c for c in ref.COUNTRIES if c[0] == "US"))
    return {
        "true_ms": true_ms,
        "event_type": etype,
        "user": np.full(n, -1),
        "anon": world.n_users + bot,  # bots get their own cookie / ip / client rows after the users'
        "client": len(ref.CLIENTS) + bot,
        "country": np.full(n, us),
        "channel": np.zeros(n, dtype=np.int64),
        "referrer": np.full(n, -1),
        "campaign": np.full(n, -1),
        "category": world.product_category[np.maximum(product, 0)],
        "static_page": np.where(rng.random(n) < 0.3, -1, rng.integers(0, len(ref.STATIC_PAGES), size=n)),
        "search_term": np.full(n, -1),
        "product": product,
        "quantity": np.zeros(n, dtype=np.int64),
        "price": _local_price(world, product, true_ms, np.zeros(n, dtype=np.int64)),
    }


def generate_clickstream(
    world: World, cfg: GenerateConfig, rng: np.random.Generator, start_ms: int
) -> Clickstream:
    n_bot = round(cfg.scale_events * cfg.bot_event_share)
    human, n_sessions = _human_sessions(world, cfg, rng, start_ms, cfg.scale_events - n_bot)
    bots = _bot_events(world, cfg, rng, start_ms, n_bot)
    ev = {name: np.concatenate([human[name], bots[name]]) for name in human}
    n = len(ev["true_ms"])
    ev["event_key"] = np.arange(n)  # which unique event a line carries (duplicates share it)

    # Orders: one per purchase event, agreeing with it on user, product, quantity, price, currency.
    purchase_rows = np.flatnonzero(ev["event_type"] == PURCHASE)
    ev["order"] = np.full(n, -1, dtype=np.int64)
    ev["order"][purchase_rows] = np.arange(len(purchase_rows))
    currency = COUNTRY_CURRENCY[ev["country"]]
    orders = {
        "order_id": np.char.add("o_", random_hex(rng, len(purchase_rows), 6)),
        "user": ev["user"][purchase_rows],
        "created_ms": ev["true_ms"][purchase_rows],
        "product": ev["product"][purchase_rows],
        "quantity": ev["quantity"][purchase_rows],
        "price": ev["price"][purchase_rows],
        "currency": currency[purchase_rows],
    }
    orders["total"] = np.round(orders["price"] * orders["quantity"], 2)

    # Client clock skew: event_ts runs behind the true time (never on purchases, which the
    # orders feed timestamps).
    skewed = (rng.random(n) < cfg.out_of_order_rate) & (ev["event_type"] != PURCHASE)
    ev["event_ms"] = ev["true_ms"] - np.where(skewed, rng.integers(30_000, 15 * 60_000, size=n), 0)
    ev["received_ms"] = ev["true_ms"] + rng.exponential(2_000, size=n).astype(np.int64)

    drift_ms = start_ms + int(cfg.drift_start_fraction * cfg.days * DAY_MS)
    extra_from_ms = start_ms + int(2 / 3 * cfg.days * DAY_MS)
    carries_extra = (ev["true_ms"] >= extra_from_ms) & (rng.random(n) < cfg.extra_field_rate)
    ev["experiment"] = np.where(carries_extra, rng.integers(0, len(ref.EXPERIMENTS), size=n), -1)
    ev["string_numbers"] = (ev["event_type"] >= ADD_TO_CART) & (rng.random(n) < cfg.string_number_rate)

    # Retries: the same line lands again seconds to minutes later, sometimes the next day.
    dup_src = np.sort(rng.choice(n, size=round(cfg.duplicate_rate * n), replace=False))
    retry_delay = rng.integers(1_000, 600_000, size=len(dup_src)) + np.where(
        rng.random(len(dup_src)) < 0.1, DAY_MS, 0
    )
    ev = {name: np.concatenate([col, col[dup_src]]) for name, col in ev.items()}
    ev["received_ms"][n:] += retry_delay
    lines = len(ev["true_ms"])
    late = rng.random(lines) < cfg.late_rate  # offline clients syncing 1-3 days later
    ev["received_ms"] += np.where(late, rng.integers(DAY_MS, 3 * DAY_MS, size=lines), 0)

    # Malformed lines (never a purchase: the orders feed must reconcile with purchase events).
    candidates = np.flatnonzero(ev["event_type"] != PURCHASE)
    n_bad = 0 if cfg.malformed_rate == 0 else max(4, round(cfg.malformed_rate * lines))
    bad = rng.choice(candidates, size=min(n_bad, len(candidates)), replace=False)
    ev["malformed"] = np.full(lines, -1, dtype=np.int8)
    ev["malformed"][bad] = rng.permutation(np.arange(len(bad)) % 4)

    order = np.argsort(ev["received_ms"], kind="stable")
    ev = {name: col[order] for name, col in ev.items()}
    ev["drift"] = ev["event_ms"] >= drift_ms
    return Clickstream(ev, orders, n_unique_events=n, n_sessions=n_sessions, n_bot_events=n_bot)
