"""Candidate sources and their features, in pandas: the user's own recent products, co-occurrence
neighbours of them, best-sellers of the user's categories, the user's best products by a
collaborative model (ALS, computed by Spark beforehand), and global best-sellers.

Every function takes `history` (lakehouse.recommend.history.HISTORY_COLUMNS: one row per (user,
product) the user interacted with) for some users, and the `Catalogue` (small tables about
products, the same for every user).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lakehouse.features.events import age_in_days

SOURCE_OWN = "recent_interest"
SOURCE_SIMILAR = "similar_items"
SOURCE_CATEGORY = "category_popular"
SOURCE_ALS = "als"
SOURCE_POPULAR = "popular"
SOURCES = (SOURCE_OWN, SOURCE_SIMILAR, SOURCE_CATEGORY, SOURCE_ALS, SOURCE_POPULAR)  # priority order
# How deep into the popularity ranking a fill may reach
POPULAR_LIMIT = 200
# Best-sellers kept per category (a few times n, so that bought products leave room)
CATEGORY_CANDIDATES = 30
# In category popularity a buyer counts fully, any other user who interacted a tenth
VISITOR_WEIGHT = 0.1
# A user's most recent products that seed the search for neighbours
MAX_SEEDS = 30
# A product left in the cart weighs as much as four views of it (the cart event's interest weight)
CART_BOOST = 4.0
# Decay of "seen recently" and "bought recently" (days)
SEEN_SCALE_DAYS = 2.0
BOUGHT_SCALE_DAYS = 7.0
# The candidate's place in each source's list for the user: 1 / log2(1 + rank), 0 when absent
RANK_FEATURES = dict(
    zip(SOURCES, ("own_rank", "similar_rank", "category_rank", "als_rank", "popular_rank"), strict=True)
)
FEATURES = (
    "own_recency",  # log(1 + recency of the user's interactions with the product)
    "in_cart",  # carted and not bought
    "views",  # log(1 + views)
    "seen_recently",  # exp(-days since the last interaction / 2); 0 when never
    "bought_before",  # log(1 + purchases)
    "bought_recently",  # exp(-days since the last purchase / 7); 0 when never
    "similar",  # log(1 + 10 x sum over seeds of recency x similarity)
    "category",  # sqrt(user's share of recency in the category x the product's share of it)
    "popularity_recent",  # log(1 + buyers in the last 7 days)
    "popularity_all",  # log(1 + buyers)
    *RANK_FEATURES.values(),
)
KEYS = ["user_id", "product_id"]
NO_SCORES = pd.DataFrame(
    {"user_id": pd.Series(dtype=object), "product_id": pd.Series(dtype=object), "score": []}
)


@dataclass(frozen=True)
class Catalogue:
    """What the recommender knows about products at one time, small enough to travel with every
    pandas call: top-k neighbours per product, popularity per product, the best-sellers overall
    (ranked) and per category (with shares)."""

    neighbours: pd.DataFrame  # product_id, neighbour_product_id, similarity
    popularity: pd.DataFrame  # product_id, category_id, buyers, users, recent_buyers
    popular: list[str]
    categories: pd.DataFrame  # category_id, product_id, share

    @classmethod
    def build(cls, neighbours: pd.DataFrame, popularity: pd.DataFrame) -> Catalogue:
        return cls(neighbours, popularity, popular_products(popularity), category_popularity(popularity))

    @property
    def size(self) -> int:
        """Products known (with at least one interaction)."""
        return len(self.popularity)


def popular_products(popularity: pd.DataFrame, limit: int = POPULAR_LIMIT) -> list[str]:
    """The `limit` best-sellers: most distinct buyers, then most users, then product id."""
    ranked = popularity.sort_values(["buyers", "users", "product_id"], ascending=[False, False, True])
    return [str(product) for product in ranked["product_id"].head(limit)]


def category_popularity(popularity: pd.DataFrame, per_category: int = CATEGORY_CANDIDATES) -> pd.DataFrame:
    """The `per_category` best-sellers of each category as (category_id, product_id, share):
    popularity = buyers + VISITOR_WEIGHT x the other users; share = the product's popularity / its
    category's."""
    known = popularity.dropna(subset=["category_id"])
    score = known["buyers"] + VISITOR_WEIGHT * (known["users"] - known["buyers"])
    total = score.groupby(known["category_id"]).transform("sum")
    shares = known.assign(popularity=score, share=(score / total.where(total > 0)).fillna(0.0))
    ranked = shares.sort_values(["category_id", "popularity", "product_id"], ascending=[True, False, True])
    top = ranked.groupby("category_id").head(per_category)
    return top[["category_id", "product_id", "share"]].reset_index(drop=True)


def bought(history: pd.DataFrame) -> pd.DataFrame:
    """(user_id, product_id) the users bought."""
    return history.loc[history["purchases"] > 0, KEYS]


def own_scores(history: pd.DataFrame, allow_repurchase: bool) -> pd.DataFrame:
    """The user's own products as (user_id, product_id, score): recency, x CART_BOOST while the
    product is carted and not bought; bought products only when `allow_repurchase`."""
    own = history.loc[history["recency"] > 0]
    if not allow_repurchase:
        own = own.loc[own["purchases"] == 0]
    in_cart = (own["carts"] > 0) & (own["purchases"] == 0)
    score = own["recency"].to_numpy("float64") * np.where(in_cart, CART_BOOST, 1.0)
    return own[KEYS].assign(score=score)


def similar_scores(history: pd.DataFrame, neighbours: pd.DataFrame) -> pd.DataFrame:
    """Co-occurrence neighbours of the user's MAX_SEEDS most recent products as (user_id,
    product_id, score): the sum over those seeds of recency x similarity."""
    seeds = history.loc[history["recency"] > 0, ["user_id", "product_id", "recency"]]
    seeds = seeds.sort_values(["user_id", "recency", "product_id"], ascending=[True, False, True])
    seeds = seeds.loc[seeds.groupby("user_id").cumcount() < MAX_SEEDS]
    pairs = seeds.merge(neighbours, on="product_id")
    if pairs.empty:
        return NO_SCORES
    pairs["score"] = pairs["recency"] * pairs["similarity"]
    scored = pairs.groupby(["user_id", "neighbour_product_id"], as_index=False)["score"].sum()
    return scored.rename(columns={"neighbour_product_id": "product_id"})


def category_scores(history: pd.DataFrame, categories: pd.DataFrame) -> pd.DataFrame:
    """Best-sellers of the user's categories as (user_id, product_id, score): the user's share of
    recency in the category x the product's share of the category."""
    liked = history.loc[(history["recency"] > 0) & history["category_id"].notna()]
    affinity = liked.groupby(["user_id", "category_id"], as_index=False)["recency"].sum()
    affinity["recency"] /= affinity.groupby("user_id")["recency"].transform("sum")
    scored = affinity.merge(categories, on="category_id")
    if scored.empty:
        return NO_SCORES
    scored["score"] = scored["recency"] * scored["share"]
    return scored.groupby(KEYS, as_index=False)["score"].sum()


def popular_scores(users: pd.Series, popular: list[str], limit: int) -> pd.DataFrame:
    """The `limit` global best-sellers for every user, scored by their rank (best highest)."""
    top = pd.DataFrame({"product_id": pd.Series(popular[:limit], dtype=object)})  # [] is not float
    top["score"] = float(len(top)) - np.arange(len(top))
    return pd.DataFrame({"user_id": users.drop_duplicates()}).merge(top, how="cross")


def ranked_within_user(scores: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """`scores` with a rank per user (1 = highest score; ties by product id), cut at `limit`."""
    ranked = scores.sort_values(["user_id", "score", "product_id"], ascending=[True, False, True])
    ranked = ranked.assign(rank=ranked.groupby("user_id").cumcount() + 1)
    return ranked if limit is None else ranked.loc[ranked["rank"] <= limit]


def candidate_features(
    history: pd.DataFrame,
    users: pd.Series,
    catalogue: Catalogue,
    as_of: pd.Timestamp,
    *,
    per_source: int,
    popular_candidates: int,
    allow_repurchase: bool,
    collaborative: pd.DataFrame = NO_SCORES,
) -> pd.DataFrame:
    """One row per (user, candidate) for `users`: user_id, product_id, source (the first of SOURCES
    that proposed it) and FEATURES. Candidates: each source's `per_source` best for the user
    (`collaborative`: a model's (user_id, product_id, score), e.g. ALS's) and `popular_candidates`
    best-sellers; never a bought product unless `allow_repurchase`."""
    history = history.loc[history["user_id"].isin(users)]
    similar = similar_scores(history, catalogue.neighbours)
    category = category_scores(history, catalogue.categories)
    lists = {
        SOURCE_OWN: ranked_within_user(own_scores(history, allow_repurchase), per_source),
        SOURCE_SIMILAR: ranked_within_user(similar, per_source),
        SOURCE_CATEGORY: ranked_within_user(category, per_source),
        SOURCE_ALS: ranked_within_user(
            collaborative.loc[collaborative["user_id"].isin(users), [*KEYS, "score"]], per_source
        ),
        SOURCE_POPULAR: ranked_within_user(popular_scores(users, catalogue.popular, popular_candidates)),
    }
    proposed = pd.concat(
        [ranked[KEYS].assign(source=source) for source, ranked in lists.items()], ignore_index=True
    )
    candidates = proposed.drop_duplicates(KEYS)  # keeps the first source in SOURCES order
    if not allow_repurchase:
        candidates = without(candidates, bought(history))
    rows = candidates.merge(history.drop(columns="category_id"), on=KEYS, how="left")
    rows = rows.merge(similar.rename(columns={"score": "_similar"}), on=KEYS, how="left")
    rows = rows.merge(category.rename(columns={"score": "_category"}), on=KEYS, how="left")
    for source, name in RANK_FEATURES.items():
        ranks = lists[source][[*KEYS, "rank"]].rename(columns={"rank": name})
        rows = rows.merge(ranks, on=KEYS, how="left")
        rows[name] = 1.0 / np.log2(1.0 + rows[name].to_numpy("float64"))
    popularity = catalogue.popularity.set_index("product_id")
    purchases = rows["purchases"].fillna(0).to_numpy("float64")
    features = pd.DataFrame(
        {
            "own_recency": np.log1p(rows["recency"].fillna(0.0)),
            "in_cart": ((rows["carts"].fillna(0) > 0) & (purchases == 0)).astype("float64"),
            "views": np.log1p(rows["views"].fillna(0).astype("float64")),
            "seen_recently": _closeness(rows["last_ts"], as_of, SEEN_SCALE_DAYS),
            "bought_before": np.log1p(purchases),
            "bought_recently": _closeness(rows["last_purchase_ts"], as_of, BOUGHT_SCALE_DAYS),
            "similar": np.log1p(10.0 * rows["_similar"].fillna(0.0)),
            "category": np.sqrt(rows["_category"].fillna(0.0)),
            "popularity_recent": np.log1p(rows["product_id"].map(popularity["recent_buyers"]).fillna(0.0)),
            "popularity_all": np.log1p(rows["product_id"].map(popularity["buyers"]).fillna(0.0)),
            **{name: rows[name].fillna(0.0) for name in RANK_FEATURES.values()},
        }
    ).astype("float64")
    return pd.concat(
        [rows[[*KEYS, "source"]].reset_index(drop=True), features.reset_index(drop=True)], axis=1
    )


def _closeness(timestamps: pd.Series, as_of: pd.Timestamp, scale_days: float) -> np.ndarray:
    """exp(-days since the timestamp / scale_days): 1 just now, towards 0 long ago, 0 for null."""
    days = age_in_days(timestamps, as_of).to_numpy("float64")
    return np.where(np.isnan(days), 0.0, np.exp(-np.nan_to_num(days) / scale_days))


def without(frame: pd.DataFrame, excluded: pd.DataFrame) -> pd.DataFrame:
    """Rows of `frame` whose (user_id, product_id) is not in `excluded`."""
    keys = excluded[KEYS].drop_duplicates().assign(_excluded=True)
    merged = frame.merge(keys, on=KEYS, how="left")
    return merged.loc[merged["_excluded"].isna()].drop(columns="_excluded")
