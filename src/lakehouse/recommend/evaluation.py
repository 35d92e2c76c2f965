"""Offline evaluation by time split: train on every day but the last, score on the last day's purchases."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

from lakehouse.features.events import (
    WATERMARK,
    human_events,
    latest_event_ts,
    micros_timestamp,
    newest_micros,
)
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
EVALUATION_COLUMNS = [field.split()[0] for field in EVALUATION_SCHEMA.split(", ")]
# what makes two evaluations of the same events the same: the recommender's knobs and k
SETTINGS_COLUMN = "settings"


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


def evaluation_settings(params: RecommenderParams, k: int) -> str:
    """The knobs an evaluation ran with, as one readable string: `category_weight=30.0 ... top_k=20`."""
    return " ".join(f"{name}={value}" for name, value in sorted({**asdict(params), "k": k}.items()))


def reusable_evaluation(
    previous: DataFrame | None, events_built: int | None, settings: str
) -> DataFrame | None:
    """`previous` (the model's rows from its last build) when they were computed from this very
    build of the events (`events_built`, their newest `_ingested_at`) with the same `settings`, else None.

    The evaluation reads nothing but the events and the settings and is deterministic, so then
    computing it again would give the same rows.
    """
    if previous is None or not {WATERMARK, SETTINGS_COLUMN} <= set(previous.columns):
        return None  # a first build, or a table from a version without these columns
    if events_built is None:
        return None
    same = (sf.unix_micros(sf.col(WATERMARK)) == sf.lit(events_built)) & (
        sf.col(SETTINGS_COLUMN) == sf.lit(settings)
    )
    counts = previous.agg(sf.count(sf.lit(1)), sf.count_if(same)).first()
    return previous if counts is not None and 0 < counts[0] == counts[1] else None


def evaluate_recommenders(
    spark: SparkSession,
    events: DataFrame,
    params: RecommenderParams,
    k: int = 10,
    previous: DataFrame | None = None,
) -> DataFrame:
    """One row per model (recommender and popularity baseline) with hit_rate@k and recall@k, and the
    settings and events build they were computed from.

    With `previous` (the model's own rows, in an incremental run), those rows are returned as they
    are when fct_events has not been rebuilt since and the settings are the same.
    """
    settings = evaluation_settings(params, k)
    events_built = newest_micros(events, WATERMARK)
    reusable = reusable_evaluation(previous, events_built, settings)
    if reusable is not None:
        return reusable.select(*EVALUATION_COLUMNS, SETTINGS_COLUMN, WATERMARK)
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
    return spark.createDataFrame(rows, EVALUATION_SCHEMA).select(
        *EVALUATION_COLUMNS,
        sf.lit(settings).alias(SETTINGS_COLUMN),
        micros_timestamp(events_built).alias(WATERMARK),
    )
