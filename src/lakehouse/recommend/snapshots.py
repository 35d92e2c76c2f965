"""Spark edge of the time split: which days have buyers, and what was known at the start of each
of some days about that day's buyers (collected into pandas Snapshots: their histories and the
catalogue). All days are computed in one pass per table (a cut-off column), not one per day: on
the 60k sample a day's Spark jobs cost seconds of scheduling however little data they read."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

from lakehouse.recommend.als import als_scores, fit_als, implicit_ratings
from lakehouse.recommend.candidates import NO_SCORES, Catalogue
from lakehouse.recommend.history import cutoff_micros, product_popularity, user_history
from lakehouse.recommend.models import Snapshot, excluded
from lakehouse.recommend.params import AlsParams, RecommenderParams
from lakehouse.recommend.similarity import neighbours_as_of

# The columns of fct_events the recommender reads
EVENT_COLUMNS = (
    "event_id",
    "event_ts",
    "user_id",
    "anonymous_id",
    "session_id",
    "event_type",
    "product_id",
    "category_id",
    "is_bot",
)


def purchases(known: DataFrame) -> DataFrame:
    """Purchases of known users (known_user_events) with a product, and their UTC date."""
    bought = known.where((sf.col("event_type") == "purchase") & sf.col("product_id").isNotNull())
    return bought.withColumn("day", sf.to_date("event_ts"))


def buyers_per_day(known: DataFrame) -> pd.DataFrame:
    """(day, buyers): distinct known buyers per date with a purchase, oldest first (one row per date)."""
    per_day = purchases(known).groupBy("day").agg(sf.count_distinct("user_id").alias("buyers"))
    return pd.DataFrame(per_day.orderBy("day").toPandas())


def days_before(buyers: pd.DataFrame, day: dt.date | None, count: int, min_buyers: int = 1) -> list[dt.date]:
    """The newest `count` dates before `day` (any date when None) with at least `min_buyers` buyers,
    oldest first."""
    eligible = buyers.loc[buyers["buyers"] >= min_buyers, "day"]
    dates = [d for d in eligible if day is None or d < day]
    return dates[-count:] if count > 0 else []


def take_snapshots(
    spark: SparkSession, events: DataFrame, known: DataFrame, days: list[dt.date], params: RecommenderParams
) -> dict[dt.date, Snapshot]:
    """For each of `days`: what was known at its start about its buyers (their histories, product
    popularity, co-occurrence neighbours, all from events before the day) and what they bought on
    it. `events` are fct_events rows (the neighbours read them as item_similarity does), `known` the
    same events attributed to users (known_user_events)."""
    if not days:
        return {}
    cutoffs = sf.broadcast(spark.createDataFrame(pd.DataFrame({"cutoff": sorted(set(days))}), "cutoff date"))
    truth = pd.DataFrame(
        purchases(known)
        .join(cutoffs, sf.col("day") == sf.col("cutoff"))
        .select("cutoff", "user_id", "product_id")
        .distinct()
        .toPandas()
    )
    buyers = spark.createDataFrame(
        truth[["cutoff", "user_id"]].drop_duplicates(), "cutoff date, user_id string"
    )
    before = known.join(cutoffs, sf.to_date("event_ts") < sf.col("cutoff"))
    as_of, keys = cutoff_micros(), ("cutoff",)
    history = user_history(before, as_of, params.half_life_days, keys).join(
        buyers, ["cutoff", "user_id"], "left_semi"
    )
    histories = pd.DataFrame(history.toPandas())
    popularity = product_popularity(before, as_of, keys=keys)
    neighbours = pd.DataFrame(
        neighbours_as_of(events, cutoffs, params.top_k, params.max_items_per_session).toPandas()
    )
    return {
        day: Snapshot(
            day=day,
            history=_of(histories, day),
            catalogue=Catalogue.build(_of(neighbours, day), _of(popularity, day)),
            truth=_of(truth, day),
        )
        for day in days
    }


def _of(frame: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The rows of one cut-off, without the cut-off column."""
    return frame.loc[frame["cutoff"] == day].drop(columns="cutoff").reset_index(drop=True)


def als_candidates(
    spark: SparkSession, known: DataFrame, snapshot: Snapshot, als: AlsParams, params: RecommenderParams
) -> pd.DataFrame:
    """The best products of the snapshot's buyers (as many as any source proposes) by ALS fit on the
    events before its day, as (user_id, product_id, score, source); nothing bought unless repurchase
    is allowed, nothing at all without earlier interactions."""
    model = fit_als(spark, implicit_ratings(known.where(sf.to_date("event_ts") < sf.lit(snapshot.day))), als)
    if model is None:
        return NO_SCORES.assign(source=pd.Series(dtype=object))
    factors = model.factors_of(spark, snapshot.users)
    return als_scores(
        factors, snapshot.users, excluded(snapshot.history, params), params.als_candidates_per_user
    )


def with_als_candidates(
    spark: SparkSession, known: DataFrame, snapshots: dict[dt.date, Snapshot], params: RecommenderParams
) -> dict[dt.date, Snapshot]:
    """The snapshots with their buyers' ALS candidates (the recommender's ALS settings), one fit a day."""
    return {
        day: replace(snapshot, collaborative=als_candidates(spark, known, snapshot, params.als, params))
        for day, snapshot in snapshots.items()
    }
