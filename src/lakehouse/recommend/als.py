"""ALS, the baseline and the recommender's collaborative candidate source: Spark MLlib's
alternating least squares on implicit feedback (Hu, Koren and Volinsky 2008), fitted by Spark;
every product's factors are collected, and the top-n of a set of users (collected on the driver,
or a bucket's in a pandas call) computed in numpy, a block of users at a time.

At 10M events the fit sees about 1.8M (user, product) pairs of 400k users and 20k products: the
factors are a few MB, and a block of 256 users x 20k products of scores is 40 MB.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.ml.recommendation import ALS
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

from lakehouse.recommend.candidates import KEYS, SOURCE_ALS
from lakehouse.recommend.history import INTERACTIONS
from lakehouse.recommend.params import AlsParams

# Implicit strength of a (user, product): views + 4 x carts + 2 x purchases (the interest weights)
RATING_WEIGHTS = {"product_view": 1.0, "add_to_cart": 4.0, "begin_checkout": 0.0, "purchase": 2.0}
USERS_PER_BLOCK = 256
SEED = 42


@dataclass(frozen=True)
class AlsFactors:
    """Latent factors: one row of `user_matrix` per id in `user_ids`, of `item_matrix` per product."""

    user_ids: pd.Index
    user_matrix: np.ndarray
    product_ids: pd.Index
    item_matrix: np.ndarray


def implicit_ratings(events: DataFrame) -> DataFrame:
    """(user_id, product_id, rating) from known users' interactions, undecayed."""
    weight = sf.lit(0.0)
    for name, value in RATING_WEIGHTS.items():
        weight = sf.when(sf.col("event_type") == name, sf.lit(value)).otherwise(weight)
    return (
        events.where(sf.col("product_id").isNotNull() & sf.col("event_type").isin(*INTERACTIONS))
        .groupBy("user_id", "product_id")
        .agg(sf.sum(weight).cast("float").alias("rating"))
        .where(sf.col("rating") > 0)
    )


def _codes(spark: SparkSession, ratings: DataFrame, column: str) -> tuple[pd.Index, DataFrame]:
    """The distinct ids of `column`, sorted, and a relation of (id, integer code) to join on."""
    ids = pd.Index(sorted(pd.DataFrame(ratings.select(column).distinct().toPandas())[column]))
    codes = pd.DataFrame({column: ids.to_numpy(object), f"{column}_code": np.arange(len(ids), dtype="int32")})
    return ids, spark.createDataFrame(codes, f"{column} string, {column}_code int")


@dataclass(frozen=True)
class ItemFactors:
    """Every product's factors, collected (20k x rank floats at 10M events): small enough to travel
    with every pandas call."""

    product_ids: pd.Index
    matrix: np.ndarray

    def with_users(self, user_factors: pd.DataFrame) -> AlsFactors:
        """AlsFactors of the users of `user_factors` (collected rows of AlsModel.users)."""
        return AlsFactors(
            user_ids=pd.Index(user_factors["user_id"].to_numpy(object)),
            user_matrix=_matrix(user_factors["features"], self.matrix.shape[1]),
            product_ids=self.product_ids,
            item_matrix=self.matrix,
        )


@dataclass(frozen=True)
class AlsModel:
    """A fitted model: the users' factors as a Spark relation (user_id string, features
    array<float>) and every product's."""

    users: DataFrame
    items: ItemFactors

    def factors_of(self, spark: SparkSession, users: Sequence[str]) -> AlsFactors:
        """AlsFactors of `users` (those with ratings), collected."""
        ids = pd.DataFrame({"user_id": pd.unique(pd.Series(list(users), dtype=object))})
        wanted = spark.createDataFrame(ids, "user_id string")
        return self.items.with_users(pd.DataFrame(self.users.join(wanted, "user_id").toPandas()))


def fit_als(spark: SparkSession, ratings: DataFrame, params: AlsParams) -> AlsModel | None:
    """ALS(implicitPrefs) fit on `ratings` (implicit_ratings), None when there are none.
    Deterministic: a fixed seed and as many blocks as Spark's parallelism."""
    ratings = ratings.persist()
    try:
        user_ids, user_codes = _codes(spark, ratings, "user_id")
        if len(user_ids) == 0:
            return None
        product_ids, product_codes = _codes(spark, ratings, "product_id")
        coded = ratings.join(user_codes, "user_id").join(product_codes, "product_id")
        blocks = max(2, spark.sparkContext.defaultParallelism)
        als = ALS(
            rank=params.rank,
            maxIter=params.max_iter,
            regParam=params.reg_param,
            alpha=params.alpha,
            implicitPrefs=True,
            userCol="user_id_code",
            itemCol="product_id_code",
            ratingCol="rating",
            seed=SEED,
            numUserBlocks=blocks,
            numItemBlocks=blocks,
            checkpointInterval=-1,
            coldStartStrategy="drop",
        )
        model = als.fit(coded)
        item_rows = pd.DataFrame(model.itemFactors.toPandas())
    finally:
        ratings.unpersist()
    users = model.userFactors.join(user_codes, sf.col("id") == sf.col("user_id_code")).select(
        "user_id", "features"
    )
    items = ItemFactors(
        product_ids=pd.Index(product_ids[item_rows["id"].to_numpy()]),
        matrix=_matrix(item_rows["features"], params.rank),
    )
    return AlsModel(users=users, items=items)


def _matrix(vectors: pd.Series, rank: int) -> np.ndarray:
    return np.array(vectors.tolist(), dtype="float64").reshape(len(vectors), rank)


def als_scores(factors: AlsFactors, users: pd.Series, excluded: pd.DataFrame, n: int) -> pd.DataFrame:
    """Each user's `n` best products by predicted preference, skipping `excluded` (user_id,
    product_id), as (user_id, product_id, score, source) with score = 1 / rank (positive, best
    highest). Users without factors (no ratings in training) get nothing."""
    known = users.loc[users.isin(factors.user_ids)].drop_duplicates().to_numpy(object)
    rows = factors.user_ids.get_indexer(known)
    mask_user = pd.Index(known).get_indexer(excluded["user_id"])
    mask_item = factors.product_ids.get_indexer(excluded["product_id"])
    masked = (mask_user >= 0) & (mask_item >= 0)
    mask_user, mask_item = mask_user[masked], mask_item[masked]
    top = min(n, factors.item_matrix.shape[0])
    parts = []
    for start in range(0, len(known), USERS_PER_BLOCK):
        block = slice(start, start + USERS_PER_BLOCK)
        scores = factors.user_matrix[rows[block]] @ factors.item_matrix.T
        in_block = (mask_user >= start) & (mask_user < start + len(scores))
        scores[mask_user[in_block] - start, mask_item[in_block]] = -np.inf
        best = np.argsort(-scores, axis=1, kind="stable")[:, :top]
        chosen = np.take_along_axis(scores, best, axis=1) > -np.inf
        parts.append(
            pd.DataFrame(
                {
                    "user_id": np.repeat(known[block], top)[chosen.ravel()],
                    "product_id": factors.product_ids.to_numpy(object)[best.ravel()][chosen.ravel()],
                    "score": np.tile(1.0 / np.arange(1, top + 1), len(best))[chosen.ravel()],
                }
            )
        )
    if not parts:
        return pd.DataFrame({key: pd.Series(dtype=object) for key in KEYS}).assign(score=[], source=[])
    return pd.concat(parts, ignore_index=True).assign(source=SOURCE_ALS)
