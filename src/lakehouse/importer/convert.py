"""Source rows -> event contract rows (pandas), and the change feeds an event log implies.

A row maps or is dropped for the first reason it fails; an optional field whose value the mapping
does not know is kept empty. Both are counted, so that the import can say what did not map.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lakehouse.contracts.events import LATEST_EVENTS
from lakehouse.errors import LakehouseError
from lakehouse.importer.mapping import EPOCH_FORMATS, PRODUCT_FIELDS, Mapping

EVENT_FIELDS = list(LATEST_EVENTS.field_names)
ALLOWED = {f.name: set(f.allowed) for f in LATEST_EVENTS.fields if f.allowed}
PRODUCT_EVENTS = ("product_view", "add_to_cart", "remove_from_cart", "begin_checkout", "purchase")
COUNTED_EVENTS = ("add_to_cart", "remove_from_cart", "purchase")  # a quantity must be positive
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


@dataclass
class Unmapped:
    """What did not map: dropped rows per reason, emptied values per field and value, unused columns."""

    rows_read: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    emptied: Counter[str] = field(default_factory=Counter)
    unused_columns: list[str] = field(default_factory=list)

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped.values())


def _text(raw: pd.DataFrame, mapping: Mapping, name: str) -> pd.Series:
    """The text of one field per row: its column (stripped, rewritten) or constant; NA when empty."""
    column = mapping.source(name)
    if column is not None:
        if column not in raw.columns:
            raise LakehouseError(
                f"mapping {mapping.name}: column {column!r} (for {name}) is not in the source "
                f"(columns: {', '.join(map(str, raw.columns))})"
            )
        text = raw[column].astype("string").str.strip()
    elif name in mapping.constants:
        text = pd.Series(mapping.constants[name], index=raw.index, dtype="string")
    else:
        return pd.Series(pd.NA, index=raw.index, dtype="string")
    if name in mapping.rewrite:
        pattern, replacement = mapping.rewrite[name]
        text = text.str.replace(pattern, replacement, regex=True)
    return text.mask(text == "")


def parse_timestamps(text: pd.Series, fmt: str, time_zone: str) -> pd.Series:
    """UTC timestamps (tz-naive) from text in `fmt` (strftime, ISO8601, epoch_s or epoch_ms); local
    times are in `time_zone`. NaT where the text does not parse or the local time is ambiguous or
    does not exist (a clock change)."""
    if fmt in EPOCH_FORMATS:
        numbers = pd.to_numeric(text, errors="coerce")
        return pd.to_datetime(numbers, unit=EPOCH_FORMATS[fmt], errors="coerce").astype("datetime64[ns]")
    parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=False)
    if not isinstance(parsed.dtype, pd.DatetimeTZDtype):
        try:
            parsed = parsed.dt.tz_localize(time_zone, ambiguous="NaT", nonexistent="NaT")
        except Exception as exc:  # an unknown zone name
            raise LakehouseError(f"time zone {time_zone!r}: {exc}") from exc
    return parsed.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")


def _drop(reasons: pd.Series, failed: pd.Series, reason: pd.Series | str) -> None:
    """Give rows that failed and have no reason yet this `reason`."""
    reasons.loc[failed & reasons.isna()] = (
        reason if isinstance(reason, str) else reason[failed & reasons.isna()]
    )


def map_events(raw: pd.DataFrame, mapping: Mapping, id_prefix: str) -> tuple[pd.DataFrame, Unmapped]:
    """The rows of `raw` as event contract fields (`event_ts` as a UTC timestamp, quantity Int64,
    price float) plus `_product_name` and `_category_id` for the product feed, and what did not
    map. event_id = `<id_prefix>-<row number>`; without an anonymous_id column the cookie is
    derived from the user (`a_<user_id>`), else from the order (`a_order_<order_id>`)."""
    raw = raw.reset_index(drop=True)
    unmapped = Unmapped(rows_read=len(raw))
    used = set(mapping.columns.values())
    unmapped.unused_columns = [str(c) for c in raw.columns if c not in used]
    text = {name: _text(raw, mapping, name) for name in [*EVENT_FIELDS, *PRODUCT_FIELDS]}
    reasons = pd.Series(pd.NA, index=raw.index, dtype="string")

    event_type = text["event_type"]
    if mapping.source("event_type") is not None:
        event_type = event_type.map(mapping.event_types).astype("string")
        _drop(
            reasons,
            event_type.isna(),
            "event_type " + text["event_type"].fillna("<empty>").map(repr) + " not mapped",
        )
    timestamps = parse_timestamps(text["event_ts"], mapping.timestamp_format, mapping.time_zone)
    _drop(
        reasons,
        timestamps.isna(),
        f"event_ts empty, not in format {mapping.timestamp_format!r} or at a clock change",
    )
    for name, pattern in mapping.require.items():
        matches = text[name].str.contains(pattern, regex=True).fillna(False).astype(bool)
        _drop(reasons, ~matches, f"{name} does not match {pattern}")
    _drop(
        reasons,
        event_type.isin(PRODUCT_EVENTS) & text["product_id"].isna(),
        "product_id empty on a product event",
    )
    cookie = text["anonymous_id"]
    if mapping.source("anonymous_id") is None:
        cookie = ("a_" + text["user_id"]).fillna("a_order_" + text["order_id"])
    _drop(reasons, cookie.isna(), "no anonymous_id, user_id or order_id to attribute it to")
    quantity = pd.to_numeric(text["quantity"], errors="coerce")
    counted = event_type.isin(COUNTED_EVENTS) & text["quantity"].notna()
    whole = quantity.notna() & (quantity > 0) & (quantity == np.floor(quantity.fillna(0)))
    _drop(reasons, counted & ~whole, "quantity not a positive whole number (a return or cancellation)")
    price = pd.to_numeric(text["price"], errors="coerce")
    _drop(reasons, text["price"].notna() & (price.isna() | (price < 0)), "price not a number >= 0")

    unmapped.dropped.update(reasons.dropna().value_counts().to_dict())
    keep = reasons.isna()
    events = pd.DataFrame({name: text[name][keep] for name in EVENT_FIELDS})
    events["event_id"] = id_prefix + "-" + raw.index[keep].astype(str)
    events["event_type"] = event_type[keep]
    events["event_ts"] = timestamps[keep]
    events["anonymous_id"] = cookie[keep]
    events["quantity"] = quantity[keep].round().astype("Int64")
    events["price"] = price[keep]
    for name in [n for n in EVENT_FIELDS if n in mapping.values or n in ALLOWED]:
        events[name] = _known_values(
            events[name], mapping.values.get(name), ALLOWED.get(name), name, unmapped
        )
    events["_product_name"] = text["product_name"][keep]
    events["_category_id"] = text["category_id"][keep]
    return events.reset_index(drop=True), unmapped


def _known_values(
    values: pd.Series,
    translation: dict[str, str] | None,
    allowed: set[str] | None,
    name: str,
    unmapped: Unmapped,
) -> pd.Series:
    """`values` translated (when the mapping has a table for the field) and restricted to the
    contract's allowed values; anything else becomes empty and is counted."""
    mapped = values.map(translation).astype("string") if translation is not None else values
    if allowed is not None:
        mapped = mapped.where(mapped.isin(allowed))
    lost = values.notna() & mapped.isna()
    unmapped.emptied.update({f"{name} {value!r}": int(n) for value, n in values[lost].value_counts().items()})
    return mapped


def products(events: pd.DataFrame) -> pd.DataFrame:
    """One row per product: its most frequent name and category, the last price seen, its currency,
    and the first time it appears (the product feed's snapshot)."""
    by_product = events.sort_values("event_ts").groupby("product_id")
    return pd.DataFrame(
        {
            "product_name": most_frequent(events, "product_id", "_product_name"),
            "category_id": most_frequent(events, "product_id", "_category_id"),
            "price": by_product["price"].last(),
            "currency": most_frequent(events, "product_id", "currency"),
            "first_ts": by_product["event_ts"].min(),
        }
    ).reset_index()


def users(events: pd.DataFrame) -> pd.DataFrame:
    """One row per user: the most frequent country and the first event (the user feed's snapshot)."""
    known = events.dropna(subset=["user_id"])
    return pd.DataFrame(
        {
            "country_code": most_frequent(known, "user_id", "country_code"),
            "first_ts": known.groupby("user_id")["event_ts"].min(),
        }
    ).reset_index()


def orders(events: pd.DataFrame) -> pd.DataFrame:
    """One order per order_id of the purchase events, as the orders feed must agree with them:
    order_total = sum of quantity x price, item_count = sum of quantity, created at the first one."""
    bought = events.loc[(events["event_type"] == "purchase") & events["order_id"].notna()]
    lines = bought.assign(_line=bought["quantity"].astype("float64") * bought["price"])
    by_order = lines.groupby("order_id")
    return pd.DataFrame(
        {
            "user_id": by_order["user_id"].first(),
            "order_total": by_order["_line"].sum().round(2),
            "item_count": by_order["quantity"].sum().astype("int64"),
            "currency": most_frequent(bought, "order_id", "currency"),
            "created_ts": by_order["event_ts"].min(),
        }
    ).reset_index()


def most_frequent(frame: pd.DataFrame, key: str, column: str) -> pd.Series:
    """Per `key`: the most frequent non-empty value of `column` (ties: the smallest), indexed by key;
    keys without a value are missing from it (they read empty after alignment)."""
    counts = frame.groupby([key, column], observed=True).size().rename("n").reset_index()
    counts = counts.sort_values([key, "n", column], ascending=[True, False, True])
    return counts.drop_duplicates(key).set_index(key)[column]


def busy_visitor_days(events: pd.DataFrame, threshold: int) -> int:
    """Visitor-days (user, else cookie, per UTC date) with more than `threshold` events: the
    project flags those visitors as bots (dbt var bot_events_per_day) and leaves them out."""
    visitor = events["user_id"].fillna(events["anonymous_id"])
    per_day = events.groupby([visitor, events["event_ts"].dt.date]).size()
    return int((per_day > threshold).sum())
