"""Top-N recommendations per user: neighbours of what the user recently engaged with, scored by
item similarity, and the most popular products of the categories the user engages with, topped up
from the most popular products overall (cold start), never a product the user already bought."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as sf

from lakehouse.features.events import age_in_days_column, human_events, latest_event_ts

# How strongly one event says "interested in this product"; a removal takes some of it back.
INTEREST_WEIGHTS = {
    "product_view": 1.0,
    "add_to_cart": 4.0,
    "remove_from_cart": -2.0,
    "begin_checkout": 4.0,
    "purchase": 2.0,
}
RECOMMENDATIONS_SCHEMA = (
    "recommendation_id string, user_id string, rank int, product_id string, score double, source string"
)
RECOMMENDATION_COLUMNS = [field.split()[0] for field in RECOMMENDATIONS_SCHEMA.split(", ")]
SOURCE_SIMILAR = "similar_items"
SOURCE_POPULAR = "popular"
# How deep into the popularity ranking the cold-start fill may reach
POPULAR_LIMIT = 200
# Candidates per category from its popularity (a few times n, so that bought products leave room)
CATEGORY_CANDIDATES = 30
# In category popularity a buyer counts fully and any other user who engaged with a product a tenth
VISITOR_WEIGHT = 0.1
# The popularity baseline scores no neighbours and no categories: only the fill from popular products
NO_NEIGHBOURS = pd.DataFrame(columns=["product_id", "neighbour_product_id", "similarity"])
NO_CATEGORIES = pd.DataFrame(columns=["category_id", "product_id", "share"])


@dataclass(frozen=True)
class RecommenderParams:
    """The knobs of the recommender; the same values train the published and the evaluated model."""

    n: int = 10
    top_k: int = 20
    max_items_per_session: int = 20
    half_life_days: float = 7.0
    self_weight: float = 1.0
    category_weight: float = 30.0

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None) -> RecommenderParams:
        """From the models' `recommender` config; unknown keys are an error, missing ones keep defaults."""
        defaults = asdict(cls())
        unknown = set(settings or {}) - set(defaults)
        if unknown:
            raise ValueError(f"unknown recommender settings: {', '.join(sorted(unknown))}")
        return cls(**{name: type(defaults[name])(value) for name, value in (settings or {}).items()})


def rank_recommendations(rows: pd.DataFrame, popular: Sequence[str], n: int) -> pd.DataFrame:
    """Top-`n` products per user from scored candidates, filled up from `popular` (in order).

    `rows` has user_id, product_id, score and is_bought. A row with is_bought true marks a product
    the user must not be recommended; a row with a null product_id just makes the user known (a
    cold-start user gets popular products only). Candidates rank by score, then product id; only
    positive scores count. Output: one row per (user, rank), rank 1..n (fewer only when the
    catalogue of candidates and popular products runs out).
    """
    rows = rows.loc[rows["user_id"].notna()]
    users = pd.DataFrame({"user_id": rows["user_id"].unique()})
    bought = rows.loc[rows["is_bought"].eq(True) & rows["product_id"].notna()]
    bought = bought[["user_id", "product_id"]].drop_duplicates()

    candidates = rows.loc[rows["product_id"].notna() & (rows["score"].fillna(0.0) > 0)]
    candidates = candidates.groupby(["user_id", "product_id"], as_index=False)["score"].max()
    candidates = _without(candidates, bought)
    candidates = candidates.sort_values(["user_id", "score", "product_id"], ascending=[True, False, True])
    candidates["rank"] = candidates.groupby("user_id").cumcount() + 1
    chosen = candidates.loc[candidates["rank"] <= n].assign(source=SOURCE_SIMILAR)

    ranked_popular = pd.DataFrame({"product_id": list(dict.fromkeys(popular))})
    ranked_popular["popularity_rank"] = range(len(ranked_popular))
    # Only users with room get a fill, from only as deep into the popular list as the most excluded
    # user can need: n plus its bought or chosen products among them (users x 200 rows otherwise).
    excluded = pd.concat([bought, chosen[["user_id", "product_id"]]])
    excluded = excluded.loc[excluded["product_id"].isin(ranked_popular["product_id"])]
    depth = n + int(excluded.groupby("user_id").size().max()) if len(excluded) else n
    with_room = users.loc[~users["user_id"].isin(chosen.loc[chosen["rank"] == n, "user_id"])]
    fill = _without(_without(with_room.merge(ranked_popular.head(depth), how="cross"), bought), chosen)
    fill = fill.sort_values(["user_id", "popularity_rank"])
    already = chosen.groupby("user_id").size().reindex(fill["user_id"]).fillna(0).to_numpy()
    fill["rank"] = fill.groupby("user_id").cumcount().to_numpy() + 1 + already.astype("int64")
    fill = fill.loc[fill["rank"] <= n].assign(score=float("nan"), source=SOURCE_POPULAR)

    result = pd.concat(
        [chosen, fill[["user_id", "product_id", "score", "rank", "source"]]], ignore_index=True
    )
    result["rank"] = result["rank"].astype("int32")
    result["recommendation_id"] = result["user_id"].astype(str) + "#" + result["rank"].astype(str)
    return result.sort_values(["user_id", "rank"]).reset_index(drop=True)[RECOMMENDATION_COLUMNS]


def _without(frame: pd.DataFrame, excluded: pd.DataFrame) -> pd.DataFrame:
    """Rows of `frame` whose (user_id, product_id) is not in `excluded`."""
    keys = excluded[["user_id", "product_id"]].drop_duplicates().assign(_excluded=True)
    merged = frame.merge(keys, on=["user_id", "product_id"], how="left")
    return merged.loc[merged["_excluded"].isna()].drop(columns="_excluded")


def _weight(event_type: Column) -> Column:
    weight = sf.lit(0.0)
    for name, value in INTEREST_WEIGHTS.items():
        weight = sf.when(event_type == name, sf.lit(value)).otherwise(weight)
    return weight


def user_interest(events: DataFrame, as_of: pd.Timestamp, half_life_days: float) -> DataFrame:
    """Per (user_id, product_id): recency-decayed interest, whether the user bought it, and the
    product's category (the greatest its events carried)."""
    age_days = age_in_days_column("event_ts", as_of)
    decayed = _weight(sf.col("event_type")) * sf.pow(sf.lit(0.5), age_days / sf.lit(half_life_days))
    return (
        human_events(events)
        .where(sf.col("product_id").isNotNull())
        .groupBy("user_id", "product_id")
        .agg(
            sf.sum(decayed).alias("interest"),
            sf.max(sf.col("event_type") == "purchase").alias("is_bought"),
            sf.max("category_id").alias("category_id"),
        )
    )


def product_popularity(events: DataFrame, sellable: DataFrame | None = None) -> pd.DataFrame:
    """One row per product with non-bot events, collected (one id per product is small): product_id,
    category_id (the greatest its events carried, as in user_interest), distinct buyers and users.

    Two plain aggregations, (product, user) and then product, rather than two distinct counts in
    one: Spark expands every row once per distinct count, which took 26-32% longer (median of
    5 runs, 1M events).
    """
    per_user = (
        _sellable_only(human_events(events).where(sf.col("product_id").isNotNull()), sellable)
        .groupBy("product_id", "user_id")
        .agg(
            sf.max("category_id").alias("category_id"),
            sf.max((sf.col("event_type") == "purchase").cast("long")).alias("bought"),
        )
    )
    return (
        per_user.groupBy("product_id")
        .agg(
            sf.max("category_id").alias("category_id"),
            sf.sum("bought").alias("buyers"),
            sf.count(sf.lit(1)).alias("users"),
        )
        .toPandas()
    )


def popular_products(popularity: pd.DataFrame, limit: int) -> list[str]:
    """The `limit` most popular products (product_popularity): most distinct buyers, then most
    users, then product id."""
    ranked = popularity.sort_values(["buyers", "users", "product_id"], ascending=[False, False, True])
    return list(ranked["product_id"].head(limit))


def category_popularity(popularity: pd.DataFrame, per_category: int = CATEGORY_CANDIDATES) -> pd.DataFrame:
    """The `per_category` most popular products of each category (product_popularity) as
    (category_id, product_id, share): popularity = buyers + VISITOR_WEIGHT x the other users, share
    = the product's popularity / its category's."""
    known = popularity.dropna(subset=["category_id"])
    score = known["buyers"] + VISITOR_WEIGHT * (known["users"] - known["buyers"])
    shares = known.assign(
        popularity=score, share=score / score.groupby(known["category_id"]).transform("sum")
    )
    ranked = shares.sort_values(["category_id", "popularity", "product_id"], ascending=[True, False, True])
    return (
        ranked.groupby("category_id").head(per_category)[list(NO_CATEGORIES.columns)].reset_index(drop=True)
    )


def top_candidates(
    interest: pd.DataFrame,
    neighbours: pd.DataFrame,
    *,
    n: int,
    self_weight: float,
    sellable: Collection[str] | None = None,
    categories: pd.DataFrame = NO_CATEGORIES,
    category_weight: float = 0.0,
) -> pd.DataFrame:
    """Each user's `n` best candidates as (user_id, product_id, score), best first.

    `interest` has one row per (user_id, product_id) with interest and is_bought (and category_id
    when `categories` are given); `neighbours` has product_id, neighbour_product_id and similarity.
    A candidate's score sums, over the products the user has positive interest in, interest x
    similarity to the candidate; such a product not bought is itself a candidate, scored interest
    x `self_weight` (people come back for what they looked at). Each popular product of a category
    in `categories` (category_popularity) adds `category_weight` x its share x the user's positive
    interest in that category. Only positive scores, products the user has not bought and, when given,
    `sellable` products count; ties rank by product id, as in rank_recommendations, so cutting at
    `n` here only spares it rows. Vectorized over integer codes of users and products (3-4x faster
    than pandas merges and group-bys on the string ids).
    """
    user_codes, user_ids = pd.factorize(interest["user_id"])
    # products coded in id order, so that ordering codes orders ids
    every_product = pd.unique(
        np.concatenate(
            [
                interest["product_id"].to_numpy(object),
                neighbours["product_id"].to_numpy(object),
                neighbours["neighbour_product_id"].to_numpy(object),
                categories["product_id"].to_numpy(object),
            ]
        )
    )
    products = pd.Index(np.sort(every_product.astype(object)))
    product_codes = products.get_indexer(interest["product_id"])
    # neighbours grouped by product: product code p owns the edges first_edge[p] .. + degree[p]
    source = products.get_indexer(neighbours["product_id"])
    by_source = np.argsort(source, kind="stable")
    target = products.get_indexer(neighbours["neighbour_product_id"])[by_source]
    similarity = neighbours["similarity"].to_numpy("float64")[by_source]
    degree = np.bincount(source, minlength=len(products))
    first_edge = np.cumsum(degree) - degree

    weight = interest["interest"].to_numpy("float64")
    bought = interest["is_bought"].to_numpy(bool)
    seeds = np.flatnonzero(weight > 0)
    seed_degree = degree[product_codes[seeds]]
    edge_seed = np.repeat(seeds, seed_degree)
    block_start = first_edge[product_codes[seeds]] - (np.cumsum(seed_degree) - seed_degree)
    edges = np.repeat(block_start, seed_degree) + np.arange(seed_degree.sum())
    again = seeds[~bought[seeds]]
    popular_in = _category_candidates(interest.iloc[seeds], categories, category_weight)
    users = np.concatenate(
        [user_codes[edge_seed], user_codes[again], user_ids.get_indexer(popular_in["user_id"])]
    ).astype("int64")
    candidates = np.concatenate(
        [target[edges], product_codes[again], products.get_indexer(popular_in["product_id"])]
    )
    scores = np.concatenate(
        [
            weight[edge_seed] * similarity[edges],
            weight[again] * self_weight,
            popular_in["score"].to_numpy("float64"),
        ]
    )

    # one key per (user, candidate): sum its scores, keep the positive, unbought (and sellable) ones
    keys, key_of_score = np.unique(users * len(products) + candidates, return_inverse=True)
    sums = np.bincount(key_of_score, weights=scores, minlength=len(keys))
    bought_keys = user_codes[bought].astype("int64") * len(products) + product_codes[bought]
    keep = (sums > 0) & ~np.isin(keys, bought_keys)
    if sellable is not None:
        keep &= products.isin(list(sellable))[keys % len(products)]
    user, product, score = keys[keep] // len(products), keys[keep] % len(products), sums[keep]
    best_first = np.lexsort((product, -score, user))
    user, product, score = user[best_first], product[best_first], score[best_first]
    starts = np.flatnonzero(np.r_[True, user[1:] != user[:-1]])
    rank = np.arange(len(user)) - np.repeat(starts, np.diff(np.r_[starts, len(user)]))
    top = rank < n
    return pd.DataFrame(
        {"user_id": user_ids[user[top]], "product_id": products[product[top]], "score": score[top]}
    )


def _category_candidates(liked: pd.DataFrame, categories: pd.DataFrame, weight: float) -> pd.DataFrame:
    """(user_id, product_id, score): the popular products of the categories of the products a user
    likes (`liked`: interest rows with positive interest), scored `weight` x the product's share of
    its category x the user's interest in the category."""
    if not weight or categories.empty:
        return pd.DataFrame({"user_id": [], "product_id": [], "score": []})
    affinity = liked.groupby(["user_id", "category_id"], as_index=False)["interest"].sum()
    scored = affinity.merge(categories, on="category_id")
    return scored.assign(score=weight * scored["interest"] * scored["share"])


def recommend_users(
    rows: pd.DataFrame,
    neighbours: pd.DataFrame,
    popular: Sequence[str],
    *,
    n: int,
    self_weight: float,
    sellable: Collection[str] | None = None,
    categories: pd.DataFrame = NO_CATEGORIES,
    category_weight: float = 0.0,
) -> pd.DataFrame:
    """Top-`n` recommendations for the users in `rows`: their interest rows (user_id, product_id,
    interest, is_bought, category_id) and one row with a null product_id per user, so that a user
    without any interest is known too (and gets popular products)."""
    interest = rows.loc[rows["product_id"].notna()]
    candidates = top_candidates(
        interest,
        neighbours,
        n=n,
        self_weight=self_weight,
        sellable=sellable,
        categories=categories,
        category_weight=category_weight,
    )
    bought = interest.loc[interest["is_bought"].astype(bool), ["user_id", "product_id"]]
    users = rows.loc[rows["product_id"].isna(), ["user_id", "product_id"]]
    no_score = float("nan")
    ranked_input = pd.concat(
        [
            candidates.assign(is_bought=False),
            bought.assign(score=no_score, is_bought=True),
            users.assign(score=no_score, is_bought=False),
        ],
        ignore_index=True,
    )
    ranked_input["score"] = ranked_input["score"].astype("float64")
    return rank_recommendations(ranked_input, popular, n)


def recommend_in_buckets(
    users: DataFrame,
    interest: DataFrame,
    neighbours: pd.DataFrame,
    popular: Sequence[str],
    *,
    n: int,
    self_weight: float,
    buckets: int = 16,
    sellable: Collection[str] | None = None,
    categories: pd.DataFrame = NO_CATEGORIES,
    category_weight: float = 0.0,
) -> DataFrame:
    """Spark edge of recommend_users: the listed users' `interest` rows (user_interest) hashed by
    user into `buckets`, one pandas call per bucket. The neighbours, the categories' popular
    products and the popular and sellable product ids (small: top-k per product, a few per
    category, one id per product) travel with the function."""
    listed = users.select("user_id").where(sf.col("user_id").isNotNull()).distinct()
    rows = (
        interest.join(listed, "user_id", "left_semi")
        .select("user_id", "product_id", "interest", "is_bought", "category_id")
        .unionByName(
            listed.select(
                "user_id",
                sf.lit(None).cast("string").alias("product_id"),
                sf.lit(None).cast("double").alias("interest"),
                sf.lit(None).cast("boolean").alias("is_bought"),
                sf.lit(None).cast("string").alias("category_id"),
            )
        )
    )

    def rank(frame: pd.DataFrame) -> pd.DataFrame:
        return recommend_users(
            frame,
            neighbours,
            popular,
            n=n,
            self_weight=self_weight,
            sellable=sellable,
            categories=categories,
            category_weight=category_weight,
        )

    bucket = sf.pmod(sf.hash("user_id"), sf.lit(buckets))
    return rows.groupBy(bucket).applyInPandas(rank, RECOMMENDATIONS_SCHEMA)


def neighbour_table(similarity: DataFrame) -> pd.DataFrame:
    """The similarity table's (product_id, neighbour_product_id, similarity), collected: top-k rows
    per product, small enough to travel with every pandas call."""
    return similarity.select("product_id", "neighbour_product_id", "similarity").toPandas()


def _sellable_only(frame: DataFrame, sellable: DataFrame | None) -> DataFrame:
    if sellable is None:
        return frame
    return frame.join(sf.broadcast(sellable.select("product_id").distinct()), "product_id", "left_semi")


def recommend(
    events: DataFrame,
    users: DataFrame,
    similarity: DataFrame,
    *,
    as_of: pd.Timestamp,
    n: int,
    half_life_days: float,
    self_weight: float,
    category_weight: float = 0.0,
    popular_limit: int = POPULAR_LIMIT,
    buckets: int = 16,
    sellable: DataFrame | None = None,
) -> DataFrame:
    """Top-`n` recommendations for every user in `users` (a user_id column), from `events`; only
    products in `sellable` (a product_id column) when it is given. Scores: top_candidates.

    The similarity table (top-k neighbours per product) is collected once; each user's candidates
    are scored in pandas next to the user's interest rows, so the tens of millions of (user,
    candidate) pairs of a large history are never shuffled or sorted by Spark.
    """
    sellable_ids = (
        None
        if sellable is None
        else frozenset(row["product_id"] for row in sellable.select("product_id").distinct().collect())
    )
    popularity = product_popularity(events, sellable)
    return recommend_in_buckets(
        users,
        user_interest(events, as_of, half_life_days),
        neighbour_table(similarity),
        popular_products(popularity, popular_limit),
        n=n,
        self_weight=self_weight,
        buckets=buckets,
        sellable=sellable_ids,
        categories=category_popularity(popularity),
        category_weight=category_weight,
    )


def user_recommendations(
    events: DataFrame, users: DataFrame, similarity: DataFrame, sellable: DataFrame, params: RecommenderParams
) -> DataFrame:
    """Spark edge of the user_recommendations model: top-n sellable products for every listed user."""
    return recommend(
        events,
        users,
        similarity,
        as_of=latest_event_ts(events),
        n=params.n,
        half_life_days=params.half_life_days,
        self_weight=params.self_weight,
        category_weight=params.category_weight,
        sellable=sellable,
    )
