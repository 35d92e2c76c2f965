"""User features: RFM, recency-decayed category affinity, session statistics, device/channel mix and
price sensitivity, computed per user with a grouped map (`applyInPandas`).

Incremental runs recompute only the users whose events fct_events rebuilt since the last run. For
everyone else only the recency columns move with the newest event: the affinity decay rescales all
of a user's categories alike, so their shares do not change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as sf

from lakehouse.features.events import (
    WATERMARK,
    age_in_days,
    age_in_days_column,
    human_events,
    latest_event_ts,
    micros_timestamp,
    newest_micros,
    to_utc_naive,
)
from lakehouse.features.standardize import standardize_columns

DEVICE_TYPES = ("desktop", "mobile", "tablet")
# How much one event says about interest in its product's category.
AFFINITY_EVENT_WEIGHTS = {"product_view": 1.0, "add_to_cart": 3.0, "begin_checkout": 3.0, "purchase": 5.0}
# The columns user_features reads from fct_events.
EVENT_COLUMNS = (
    "user_id",
    "session_id",
    "event_ts",
    "event_type",
    "product_id",
    "category_id",
    "price_usd",
    "revenue_usd",
    "device_type",
    "channel",
)
USER_FEATURES_SCHEMA = (
    "user_id string, first_event_at timestamp, last_event_at timestamp, days_since_last_event double, "
    "last_purchase_at timestamp, days_since_last_purchase double, purchase_sessions long, "
    "monetary_usd double, events long, sessions long, events_per_session double, avg_session_seconds double, "
    "share_desktop double, share_mobile double, share_tablet double, primary_channel string, "
    "channels_used long, avg_viewed_price_usd double, avg_purchased_price_usd double, "
    "purchase_to_view_price_ratio double, top_category_id string, top_category_affinity double, "
    "categories_engaged long"
)
USER_FEATURE_COLUMNS = [field.split()[0] for field in USER_FEATURES_SCHEMA.split(", ")]
STANDARDIZED_COLUMNS = ("days_since_last_event", "purchase_sessions", "monetary_usd", "sessions")


def decayed_category_affinity(
    events: pd.DataFrame, as_of: pd.Timestamp, half_life_days: float
) -> pd.DataFrame:
    """One row per (user_id, category_id): the share of the user's interest in that category.

    Each event counts AFFINITY_EVENT_WEIGHTS[event_type] halved every `half_life_days` of age, so a
    recent add-to-cart outweighs an old view. Affinities of one user sum to 1. Events without a user,
    a category or a weighted type are ignored.
    """
    if half_life_days <= 0:
        raise ValueError(f"half_life_days must be positive, got {half_life_days}")
    weight = events["event_type"].map(AFFINITY_EVENT_WEIGHTS)
    usable = events["user_id"].notna() & events["category_id"].notna() & weight.notna()
    scored = events.loc[usable, ["user_id", "category_id"]].copy()
    decay = np.power(0.5, age_in_days(events.loc[usable, "event_ts"], as_of) / half_life_days)
    scored["affinity"] = weight[usable].astype("float64") * decay
    totals = scored.groupby(["user_id", "category_id"], as_index=False)["affinity"].sum()
    totals["affinity"] = totals["affinity"] / totals.groupby("user_id")["affinity"].transform("sum")
    return totals.sort_values(
        ["user_id", "affinity", "category_id"], ascending=[True, False, True]
    ).reset_index(drop=True)


def _per_user(values: pd.Series, users: pd.Index, fill: float | None = None) -> pd.Series:
    aligned = values.reindex(users)
    return aligned.fillna(fill) if fill is not None else aligned


def summarize_users(events: pd.DataFrame, as_of: pd.Timestamp, half_life_days: float) -> pd.DataFrame:
    """One row of features per user in `events` (any number of users; vectorized over all of them).

    Recency is measured to `as_of`; sessions are the events' `session_id`s (events without one count
    as events but not sessions); a session's channel is its earliest event's known one. The result
    does not depend on the order of `events`' rows.
    """
    events = events.loc[events["user_id"].notna()].assign(event_ts=lambda f: to_utc_naive(f["event_ts"]))
    # rows arrive in shuffle order: sort so that "a session's first channel" is its earliest event's
    # (ties broken by channel), whatever order Spark delivered them in
    events = events.sort_values(["user_id", "event_ts", "channel"], kind="stable", na_position="last")
    if events.empty:
        return pd.DataFrame(columns=USER_FEATURE_COLUMNS)
    by_user = events.groupby("user_id", sort=True)
    users = by_user.size().index
    out = pd.DataFrame(index=users)
    out["first_event_at"] = by_user["event_ts"].min()
    out["last_event_at"] = by_user["event_ts"].max()
    out["days_since_last_event"] = age_in_days(out["last_event_at"], as_of)

    purchases = events.loc[events["event_type"].eq("purchase")].groupby("user_id")
    out["last_purchase_at"] = _per_user(purchases["event_ts"].max(), users)
    out["days_since_last_purchase"] = age_in_days(out["last_purchase_at"], as_of)
    out["purchase_sessions"] = _per_user(purchases["session_id"].nunique(), users, 0).astype("int64")
    out["monetary_usd"] = _per_user(purchases["revenue_usd"].sum(), users, 0.0).astype("float64")
    out["events"] = by_user.size().astype("int64")

    sessions = (
        events.dropna(subset=["session_id"])
        .groupby(["user_id", "session_id"])
        .agg(
            start=("event_ts", "min"),
            end=("event_ts", "max"),
            n=("event_ts", "size"),
            channel=("channel", "first"),
        )
    )
    sessions["seconds"] = (sessions["end"] - sessions["start"]).dt.total_seconds()
    per_user_sessions = sessions.groupby(level="user_id")
    out["sessions"] = _per_user(per_user_sessions.size(), users, 0).astype("int64")
    out["events_per_session"] = _per_user(per_user_sessions["n"].mean(), users)
    out["avg_session_seconds"] = _per_user(per_user_sessions["seconds"].mean(), users)

    devices = pd.crosstab(events["user_id"], events["device_type"], normalize="index")
    for device in DEVICE_TYPES:
        share = devices[device] if device in devices.columns else pd.Series(0.0, index=devices.index)
        out[f"share_{device}"] = _per_user(share, users)

    channel_counts = sessions.dropna(subset=["channel"]).groupby(["user_id", "channel"]).size().rename("n")
    ranked = channel_counts.reset_index().sort_values(
        ["user_id", "n", "channel"], ascending=[True, False, True]
    )
    primary = ranked.drop_duplicates("user_id").set_index("user_id")["channel"]
    out["primary_channel"] = _per_user(primary, users)
    out["channels_used"] = _per_user(channel_counts.groupby(level="user_id").size(), users, 0).astype("int64")

    viewed = events.loc[events["event_type"].eq("product_view")].groupby("user_id")["price_usd"].mean()
    out["avg_viewed_price_usd"] = _per_user(viewed, users)
    out["avg_purchased_price_usd"] = _per_user(purchases["price_usd"].mean(), users)
    ratio = out["avg_purchased_price_usd"] / out["avg_viewed_price_usd"].where(
        out["avg_viewed_price_usd"] > 0
    )
    out["purchase_to_view_price_ratio"] = ratio

    affinity = decayed_category_affinity(events, as_of, half_life_days)
    top = affinity.drop_duplicates("user_id").set_index("user_id")  # sorted: strongest category first
    out["top_category_id"] = _per_user(top["category_id"], users)
    out["top_category_affinity"] = _per_user(top["affinity"], users)
    out["categories_engaged"] = _per_user(affinity.groupby("user_id").size(), users, 0).astype("int64")
    return out.reset_index()[USER_FEATURE_COLUMNS]


def _summarized(events: DataFrame, as_of: pd.Timestamp, half_life_days: float, buckets: int) -> DataFrame:
    """Users hashed into `buckets` groups, each group summarized in one vectorized pandas call: a
    grouped map per single user would pay the per-group overhead once per user."""

    def summarize(frame: pd.DataFrame) -> pd.DataFrame:
        return summarize_users(frame, as_of, half_life_days)

    bucket = sf.pmod(sf.hash("user_id"), sf.lit(buckets))
    humans = human_events(events).select(*EVENT_COLUMNS)
    return humans.groupBy(bucket).applyInPandas(summarize, USER_FEATURES_SCHEMA)


def _carried_over(
    events: DataFrame, previous: DataFrame, watermark: int, as_of: pd.Timestamp
) -> tuple[DataFrame, DataFrame]:
    """(users to recompute, the other users' previous rows with their recency measured to `as_of`).

    A user is recomputed when any of their events was built after `watermark` (a rebuild that
    flags them as a bot included). The others' events are unchanged: fct_events replaces whole
    event dates, so an incremental run cannot drop a user's event without rebuilding its date.
    """
    built_after = sf.col(WATERMARK) > sf.timestamp_micros(sf.lit(watermark))  # pushed to the scan
    changed = sf.broadcast(
        events.where(built_after & sf.col("user_id").isNotNull()).select("user_id").distinct()
    )
    carried = (
        previous.join(changed, "user_id", "left_anti")
        .select(*USER_FEATURE_COLUMNS)
        .withColumn("days_since_last_event", age_in_days_column("last_event_at", as_of))
        .withColumn("days_since_last_purchase", age_in_days_column("last_purchase_at", as_of))
    )
    return changed, carried


def user_features(
    events: DataFrame, half_life_days: float, previous: DataFrame | None = None, buckets: int = 16
) -> DataFrame:
    """Spark edge: one row per non-bot user with events, plus `<feature>_z` standardized columns.

    With `previous` (the model's own table, in an incremental run) only users whose events were
    built after its watermark are summarized again; the result equals a full recomputation. A
    `previous` without the watermark column (built by an older version) is ignored.
    """
    as_of = latest_event_ts(events)
    newest_build = newest_micros(events, WATERMARK)
    watermark = None
    if previous is not None and WATERMARK in previous.columns:
        watermark = newest_micros(previous, WATERMARK)
    if previous is None or watermark is None:
        features = _summarized(events, as_of, half_life_days, buckets)
    else:
        changed, carried = _carried_over(events, previous, watermark, as_of)
        recomputed = _summarized(events.join(changed, "user_id", "left_semi"), as_of, half_life_days, buckets)
        features = recomputed.unionByName(carried)
    return standardize_columns(features, STANDARDIZED_COLUMNS).withColumn(
        WATERMARK, micros_timestamp(newest_build)
    )
