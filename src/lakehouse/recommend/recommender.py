"""Spark edges of the published recommender: the blend's weights, fit on the newest days, and
top-N recommendations for every listed user (pandas per hashed bucket of users, with their ALS
factors)."""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

from lakehouse.features.events import latest_event_ts
from lakehouse.recommend.als import AlsModel, als_scores, fit_als, implicit_ratings
from lakehouse.recommend.blend import WEIGHTS_SCHEMA, BlendWeights
from lakehouse.recommend.candidates import NO_SCORES, Catalogue
from lakehouse.recommend.history import (
    HISTORY_COLUMNS,
    HISTORY_SCHEMA,
    known_user_events,
    neighbour_table,
    product_popularity,
    user_history,
)
from lakehouse.recommend.models import excluded, fit_on, recommend_blend
from lakehouse.recommend.params import RecommenderParams
from lakehouse.recommend.ranking import RECOMMENDATIONS_SCHEMA
from lakehouse.recommend.snapshots import (
    EVENT_COLUMNS,
    buyers_per_day,
    days_before,
    take_snapshots,
    with_als_candidates,
)

FACTORS_SCHEMA = "user_id string, features array<float>"

BLEND_WEIGHTS_SCHEMA = f"{WEIGHTS_SCHEMA}, training_dates string"


def blend_weights(spark: SparkSession, events: DataFrame, params: RecommenderParams) -> DataFrame:
    """The reco_blend_weights model: the blend fit on the newest `blend_training_days` dates with
    purchases (each with features, ALS's included, from the events before it), one row per feature."""
    events = events.select(*EVENT_COLUMNS).persist()
    known = known_user_events(events).persist()
    try:
        days = days_before(buyers_per_day(known), None, params.blend_training_days)
        snapshots = with_als_candidates(
            spark, known, take_snapshots(spark, events, known, days, params), params
        )
        weights = fit_on(list(snapshots.values()), params)
    finally:
        known.unpersist()
        events.unpersist()
    frame = weights.to_frame().assign(training_dates=" ".join(str(day) for day in days))
    return spark.createDataFrame(frame, BLEND_WEIGHTS_SCHEMA)


def recommend_in_buckets(
    users: DataFrame,
    history: DataFrame,
    catalogue: Catalogue,
    weights: BlendWeights,
    as_of: pd.Timestamp,
    params: RecommenderParams,
    als: AlsModel | None = None,
    sellable: Collection[str] | None = None,
    buckets: int = 16,
) -> DataFrame:
    """recommend_blend for the listed users (a user_id column), one pandas call per hashed bucket of
    users with their history rows and ALS factors (`als`, when fit); a user without history is one
    row with a null product_id, so that it is known too (and gets best-sellers). The catalogue,
    the weights and the products' factors travel with the call."""
    listed = users.select("user_id").where(sf.col("user_id").isNotNull()).distinct()
    markers = listed.select(
        *(
            sf.col("user_id") if name == "user_id" else sf.lit(None).cast(kind).alias(name)
            for name, kind in (field.split() for field in HISTORY_SCHEMA.split(", "))
        )
    )
    rows = history.join(listed, "user_id", "left_semi").unionByName(markers)
    spark = users.sparkSession
    if als is None:
        factors, items = spark.createDataFrame([], FACTORS_SCHEMA), None
    else:
        factors, items = als.users.join(listed, "user_id", "left_semi"), als.items

    def rank(frame: pd.DataFrame, user_factors: pd.DataFrame) -> pd.DataFrame:
        known = frame.loc[frame["product_id"].notna()]
        collaborative = NO_SCORES
        if items is not None and len(user_factors):
            scoring = items.with_users(user_factors)
            collaborative = als_scores(
                scoring, frame["user_id"], excluded(known, params), params.als_candidates_per_user
            )
        return recommend_blend(
            known, frame["user_id"], catalogue, weights, as_of, params, sellable, collaborative
        )

    bucket = sf.pmod(sf.hash("user_id"), sf.lit(buckets)).alias("_bucket")
    return (
        rows.select(bucket, *HISTORY_COLUMNS)
        .groupBy("_bucket")
        .cogroup(factors.select(bucket, "user_id", "features").groupBy("_bucket"))
        .applyInPandas(lambda left, right: rank(left.drop(columns="_bucket"), right), RECOMMENDATIONS_SCHEMA)
    )


def user_recommendations(
    events: DataFrame,
    users: DataFrame,
    similarity: DataFrame,
    sellable: DataFrame,
    weights: DataFrame,
    params: RecommenderParams,
) -> DataFrame:
    """The user_recommendations model: top-n sellable products for every listed user, as of the
    newest event, scored by the blend `weights` (the reco_blend_weights rows) over every source's
    candidates, ALS's fit on all the events among them."""
    known = known_user_events(events)
    as_of = latest_event_ts(events)
    sellable_ids = frozenset(row["product_id"] for row in sellable.select("product_id").distinct().collect())
    catalogue = Catalogue.build(neighbour_table(similarity), product_popularity(known, as_of, sellable))
    return recommend_in_buckets(
        users,
        user_history(known, as_of, params.half_life_days),
        catalogue,
        BlendWeights.from_frame(pd.DataFrame(weights.toPandas())),
        as_of,
        params,
        fit_als(events.sparkSession, implicit_ratings(known), params.als),
        sellable_ids,
    )
