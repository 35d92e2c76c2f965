"""Offline evaluation by time split: train on every day but the last, score on the last day's purchases."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

from lakehouse.features.events import human_events, latest_event_ts
from lakehouse.recommend.recommender import (
    NO_NEIGHBOURS,
    POPULAR_LIMIT,
    RecommenderParams,
    category_popularity,
    neighbour_table,
    popular_products,
    product_popularity,
    recommend_in_buckets,
    user_interest,
)
from lakehouse.recommend.similarity import item_similarity

MODEL_RECOMMENDER = "item_similarity"
MODEL_POPULARITY = "popularity"
# Below this many evaluated users a hit-rate comparison is noise (one buyer moves it by several
# points): the evaluation day needs this many buyers, and the run gates on the figures only then.
MIN_USERS_TO_COMPARE = 30
EVALUATION_SCHEMA = (
    "model_name string, k int, users_evaluated long, hit_rate double, recall double, "
    "train_end_date date, eval_date date"
)


def ranking_metrics(recommended: pd.DataFrame, relevant: pd.DataFrame, k: int) -> tuple[int, float, float]:
    """(users evaluated, hit_rate@k, recall@k) over the users that have relevant items.

    hit_rate: share of those users with at least one relevant item in their top k; recall: mean over
    those users of (relevant items in the top k) / (relevant items). A user without
    recommendations counts as a miss.
    """
    truth = relevant.dropna(subset=["user_id", "product_id"])[["user_id", "product_id"]].drop_duplicates()
    if truth.empty:
        return 0, float("nan"), float("nan")
    top = recommended.loc[recommended["rank"] <= k, ["user_id", "product_id"]].drop_duplicates()
    hits = truth.merge(top, on=["user_id", "product_id"], how="left", indicator=True)
    hits["hit"] = hits["_merge"].eq("both")
    per_user = hits.groupby("user_id")["hit"].agg(["sum", "size"])
    hit_rate = float((per_user["sum"] > 0).mean())
    recall = float((per_user["sum"] / per_user["size"]).mean())
    return len(per_user), hit_rate, recall


def last_day_split(
    events: DataFrame, min_buyers: int = MIN_USERS_TO_COMPARE
) -> tuple[dt.date, DataFrame, DataFrame]:
    """(evaluation day, events before it, that day's non-bot purchases as (user_id, product_id)).

    The evaluation day is the newest date with at least `min_buyers` non-bot buyers. The newest
    dates can hold only a few events (sessions running past midnight, clocks running ahead): on the
    1M bench data the newest date had 43 events and one buyer, against ~150 on a whole day. Without
    such a date it is the newest date with a non-bot purchase (too few users to compare, so the run
    reports the figures without gating on them), and without any purchase the newest event's date.
    """
    event_date = sf.to_date("event_ts")
    human_purchases = human_events(events).where(
        (sf.col("event_type") == "purchase") & sf.col("product_id").isNotNull()
    )
    buyers = human_purchases.groupBy(event_date.alias("day")).agg(sf.count_distinct("user_id").alias("n"))
    newest = buyers.agg(sf.max(sf.when(sf.col("n") >= min_buyers, sf.col("day"))), sf.max("day")).first()
    days = [day for day in (newest or []) if day is not None]
    last_day = days[0] if days else latest_event_ts(events).date()
    train = events.where(event_date < sf.lit(last_day))
    purchased = (
        human_purchases.where(event_date == sf.lit(last_day)).select("user_id", "product_id").distinct()
    )
    return last_day, train, purchased


def evaluate_recommenders(
    spark: SparkSession, events: DataFrame, params: RecommenderParams, k: int = 10
) -> DataFrame:
    """One row per model (recommender and popularity baseline) with hit_rate@k and recall@k."""
    last_day, train, purchased = last_day_split(events)
    relevant = pd.DataFrame(purchased.toPandas())
    # the evaluated users as a local relation: `purchased` would scan the events again per use
    eval_users = spark.createDataFrame(relevant[["user_id"]].drop_duplicates(), "user_id string")
    n = max(k, params.n)
    # Both models share the training interest and the popular products; the baseline scores no
    # neighbours, no categories and nothing by itself, so it recommends popular products the user
    # has not bought.
    interest = (
        user_interest(train, latest_event_ts(train), params.half_life_days)
        .join(eval_users, "user_id", "left_semi")
        .persist()
    )
    popularity = product_popularity(train)
    popular = popular_products(popularity, POPULAR_LIMIT)
    similarity = item_similarity(train, params.top_k, params.max_items_per_session)
    candidates = {
        MODEL_RECOMMENDER: recommend_in_buckets(
            eval_users,
            interest,
            neighbour_table(similarity),
            popular,
            n=n,
            self_weight=params.self_weight,
            categories=category_popularity(popularity),
            category_weight=params.category_weight,
        ),
        MODEL_POPULARITY: recommend_in_buckets(
            eval_users, interest, NO_NEIGHBOURS, popular, n=n, self_weight=0.0
        ),
    }
    rows = []
    try:
        for name, recommendations in candidates.items():
            users, hit_rate, recall = ranking_metrics(recommendations.toPandas(), relevant, k)
            rows.append((name, k, users, hit_rate, recall, last_day - dt.timedelta(days=1), last_day))
    finally:
        interest.unpersist()
    return spark.createDataFrame(rows, EVALUATION_SCHEMA)
