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

# Events that show interest in a product (page views and searches carry no product).
INTERACTION_TYPES = ("product_view", "add_to_cart", "begin_checkout", "purchase")


def session_items(events: DataFrame, max_items_per_session: int) -> DataFrame:
    """One row per (session_id, product_id) a non-bot user interacted with, capped per session."""
    touched = (
        human_events(events)
        .where(sf.col("session_id").isNotNull() & sf.col("product_id").isNotNull())
        .where(sf.col("event_type").isin(*INTERACTION_TYPES))
        .groupBy("session_id", "product_id")
        .agg(sf.min("event_ts").alias("first_touch_ts"))
    )
    order = Window.partitionBy("session_id").orderBy("first_touch_ts", "product_id")
    return (
        touched.withColumn("_item_number", sf.row_number().over(order))
        .where(sf.col("_item_number") <= max_items_per_session)
        .select("session_id", "product_id")
    )


def co_occurrence(items: DataFrame) -> DataFrame:
    """Directed pairs (product_id, neighbour_product_id) with the number of sessions holding both."""
    left = items.select("session_id", sf.col("product_id").alias("a"))
    right = items.select("session_id", sf.col("product_id").alias("b"))
    pairs = (
        left.join(right, "session_id")
        .where(sf.col("a") < sf.col("b"))
        .groupBy("a", "b")
        .agg(sf.count(sf.lit(1)).alias("co_sessions"))
    )
    forward = pairs.select(
        sf.col("a").alias("product_id"), sf.col("b").alias("neighbour_product_id"), "co_sessions"
    )
    backward = pairs.select(
        sf.col("b").alias("product_id"), sf.col("a").alias("neighbour_product_id"), "co_sessions"
    )
    return forward.unionByName(backward)


def item_similarity(events: DataFrame, top_k: int, max_items_per_session: int) -> DataFrame:
    """Top-`top_k` neighbours per product by cosine similarity of their session sets.

    similarity = co_sessions / sqrt(sessions(product) * sessions(neighbour)), in (0, 1]; ties are
    broken by co_sessions, then by neighbour id, so the ranking is deterministic. Each row also
    carries the product's `co_view_degree`, its neighbours before the cut (item_features reads it
    here instead of forming the pairs again).
    """
    items = session_items(events, max_items_per_session)
    support = items.groupBy("product_id").agg(sf.count(sf.lit(1)).alias("product_sessions"))
    neighbour_support = support.select(
        sf.col("product_id").alias("neighbour_product_id"),
        sf.col("product_sessions").alias("neighbour_sessions"),
    )
    scored = (
        co_occurrence(items)
        .join(support, "product_id")
        .join(neighbour_support, "neighbour_product_id")
        .withColumn(
            "similarity",
            sf.col("co_sessions") / sf.sqrt(sf.col("product_sessions") * sf.col("neighbour_sessions")),
        )
    )
    order = Window.partitionBy("product_id").orderBy(
        sf.desc("similarity"), sf.desc("co_sessions"), sf.asc("neighbour_product_id")
    )
    return (
        scored.withColumn("neighbour_rank", sf.row_number().over(order))
        .withColumn("co_view_degree", sf.count(sf.lit(1)).over(Window.partitionBy("product_id")))
        .where(sf.col("neighbour_rank") <= top_k)
        .select(
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
    )
