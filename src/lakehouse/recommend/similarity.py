"""Item-item similarity from co-occurrence within sessions, top-K neighbours per item.

The self-join is kept within memory at any scale by shrinking its input first: one row per
(session, item), at most `max_items_per_session` items per session (the first ones the session
touched), pairs generated once (a < b) and aggregated before they are mirrored. A session then
contributes at most max_items * (max_items - 1) / 2 pairs, however long a bot or a power user browses.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as sf

from lakehouse.features.events import human_events
from lakehouse.recommend.history import INTERACTIONS


def session_items(events: DataFrame, max_items_per_session: int) -> DataFrame:
    """One row per (session_id, product_id) a non-bot user interacted with, capped per session,
    with the session's first touch of the product (first_touch_ts)."""
    touched = (
        human_events(events)
        .where(sf.col("session_id").isNotNull() & sf.col("product_id").isNotNull())
        .where(sf.col("event_type").isin(*INTERACTIONS))
        .groupBy("session_id", "product_id")
        .agg(sf.min("event_ts").alias("first_touch_ts"))
    )
    order = Window.partitionBy("session_id").orderBy("first_touch_ts", "product_id")
    return (
        touched.withColumn("_item_number", sf.row_number().over(order))
        .where(sf.col("_item_number") <= max_items_per_session)
        .select("session_id", "product_id", "first_touch_ts")
    )


def co_occurrence(items: DataFrame, keys: tuple[str, ...] = ()) -> DataFrame:
    """Directed pairs (product_id, neighbour_product_id) with the number of sessions holding both,
    per `keys` (columns of `items` besides session_id and product_id)."""
    left = items.select(*keys, "session_id", sf.col("product_id").alias("a"))
    right = items.select(*keys, "session_id", sf.col("product_id").alias("b"))
    pairs = (
        left.join(right, [*keys, "session_id"])
        .where(sf.col("a") < sf.col("b"))
        .groupBy(*keys, "a", "b")
        .agg(sf.count(sf.lit(1)).alias("co_sessions"))
    )
    forward = pairs.select(
        *keys, sf.col("a").alias("product_id"), sf.col("b").alias("neighbour_product_id"), "co_sessions"
    )
    backward = pairs.select(
        *keys, sf.col("b").alias("product_id"), sf.col("a").alias("neighbour_product_id"), "co_sessions"
    )
    return forward.unionByName(backward)


def top_neighbours(items: DataFrame, top_k: int, keys: tuple[str, ...] = ()) -> DataFrame:
    """Per `keys` and product, its `top_k` neighbours by cosine similarity of their session sets.

    similarity = co_sessions / sqrt(sessions(product) * sessions(neighbour)), in (0, 1]; ties are
    broken by co_sessions, then by neighbour id, so the ranking is deterministic. Each row also
    carries the product's `co_view_degree`, its neighbours before the cut.
    """
    support = items.groupBy(*keys, "product_id").agg(sf.count(sf.lit(1)).alias("product_sessions"))
    neighbour_support = support.select(
        *keys,
        sf.col("product_id").alias("neighbour_product_id"),
        sf.col("product_sessions").alias("neighbour_sessions"),
    )
    scored = (
        co_occurrence(items, keys)
        .join(support, [*keys, "product_id"])
        .join(neighbour_support, [*keys, "neighbour_product_id"])
        .withColumn(
            "similarity",
            sf.col("co_sessions") / sf.sqrt(sf.col("product_sessions") * sf.col("neighbour_sessions")),
        )
    )
    by_product = Window.partitionBy(*keys, "product_id")
    order = by_product.orderBy(sf.desc("similarity"), sf.desc("co_sessions"), sf.asc("neighbour_product_id"))
    return (
        scored.withColumn("neighbour_rank", sf.row_number().over(order))
        .withColumn("co_view_degree", sf.count(sf.lit(1)).over(by_product))
        .where(sf.col("neighbour_rank") <= top_k)
    )


def item_similarity(events: DataFrame, top_k: int, max_items_per_session: int) -> DataFrame:
    """Top-`top_k` neighbours per product by cosine similarity of their session sets (top_neighbours),
    as the item_similarity model stores them (co_view_degree: item_features reads it here instead of
    forming the pairs again)."""
    return top_neighbours(session_items(events, max_items_per_session), top_k).select(
        sf.concat_ws(">", "product_id", "neighbour_product_id").alias("pair_id"),
        "product_id",
        "neighbour_product_id",
        "neighbour_rank",
        "similarity",
        sf.col("co_sessions").cast("long").alias("co_sessions"),
        sf.col("product_sessions").cast("long").alias("product_sessions"),
        sf.col("neighbour_sessions").cast("long").alias("neighbour_sessions"),
        sf.col("co_view_degree").cast("long").alias("co_view_degree"),
    )


def neighbours_as_of(
    events: DataFrame, cutoffs: DataFrame, top_k: int, max_items_per_session: int
) -> DataFrame:
    """For every date in `cutoffs` (a `cutoff` date column): (cutoff, product_id,
    neighbour_product_id, similarity), the top-`top_k` neighbours item_similarity finds in the
    events before that date, from one pass over the sessions instead of one per date.

    Exact: a (session, product) is among the events before a date when its first touch is, the
    capped items of a session before a date are a prefix of its capped items, and so the pairs and
    session counts before a date are those whose first touches all fall before it.
    """
    items = session_items(events, max_items_per_session).withColumn(
        "_touch_date", sf.to_date("first_touch_ts")
    )
    dated = items.join(sf.broadcast(cutoffs), sf.col("_touch_date") < sf.col("cutoff")).select(
        "cutoff", "session_id", "product_id"
    )
    return top_neighbours(dated, top_k, keys=("cutoff",)).select(
        "cutoff", "product_id", "neighbour_product_id", "similarity"
    )
