"""The recommender and its baselines as plain pandas functions of what is known at one time.

Each takes `history` (HISTORY_COLUMNS rows of the users to score), `users` (who to recommend for,
with or without history) and the `Catalogue`, and returns top-n lists (RECOMMENDATION_COLUMNS).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lakehouse.recommend.blend import BlendWeights, fit_blend
from lakehouse.recommend.candidates import (
    KEYS,
    NO_SCORES,
    SOURCE_OWN,
    SOURCE_SIMILAR,
    Catalogue,
    bought,
    candidate_features,
    own_scores,
    similar_scores,
    without,
)
from lakehouse.recommend.params import RecommenderParams
from lakehouse.recommend.ranking import top_n

NOTHING = pd.DataFrame({"user_id": pd.Series(dtype=object), "product_id": pd.Series(dtype=object)})


@dataclass(frozen=True)
class Snapshot:
    """What is known at the start of `day` (events before it) about the users who bought on `day`,
    and what they bought that day (`truth`: user_id, product_id); `collaborative`: their best
    products by ALS fit on the events before the day (user_id, product_id, score), when known."""

    day: dt.date
    history: pd.DataFrame
    catalogue: Catalogue
    truth: pd.DataFrame
    collaborative: pd.DataFrame = field(default_factory=NO_SCORES.copy)

    @property
    def as_of(self) -> pd.Timestamp:
        return pd.Timestamp(self.day)

    @property
    def users(self) -> pd.Series:
        return pd.Series(self.truth["user_id"].drop_duplicates().to_numpy(), dtype=object)


def excluded(history: pd.DataFrame, params: RecommenderParams) -> pd.DataFrame:
    """What no model may recommend: bought products, unless repurchase is allowed."""
    return NOTHING if params.allow_repurchase else bought(history)


def recommend_popularity(
    history: pd.DataFrame, users: pd.Series, catalogue: Catalogue, params: RecommenderParams
) -> pd.DataFrame:
    """Baseline: the best-sellers (most distinct buyers), the same list for everyone."""
    return top_n(
        NOTHING.assign(score=[], source=[]), users, catalogue.popular, params.n, excluded(history, params)
    )


def recommend_recent(
    history: pd.DataFrame, users: pd.Series, catalogue: Catalogue, params: RecommenderParams
) -> pd.DataFrame:
    """Baseline (re-engagement): the user's own products, most recent interest first (recency,
    x4 while carted), not bought unless repurchase is allowed; then best-sellers."""
    scores = own_scores(history, params.allow_repurchase).assign(source=SOURCE_OWN)
    return top_n(scores, users, catalogue.popular, params.n, excluded(history, params))


def recommend_item_to_item(
    history: pd.DataFrame, users: pd.Series, catalogue: Catalogue, params: RecommenderParams
) -> pd.DataFrame:
    """Baseline: co-occurrence neighbours of the user's recent products alone (the products
    themselves are not candidates); then best-sellers."""
    scores = without(similar_scores(history, catalogue.neighbours), history[KEYS])
    return top_n(
        scores.assign(source=SOURCE_SIMILAR), users, catalogue.popular, params.n, excluded(history, params)
    )


def recommend_scored(
    scores: pd.DataFrame,
    history: pd.DataFrame,
    users: pd.Series,
    catalogue: Catalogue,
    params: RecommenderParams,
) -> pd.DataFrame:
    """Top-n from any model's (user_id, product_id, score, source), e.g. ALS; then best-sellers."""
    return top_n(scores, users, catalogue.popular, params.n, excluded(history, params))


def recommend_blend(
    history: pd.DataFrame,
    users: pd.Series,
    catalogue: Catalogue,
    weights: BlendWeights,
    as_of: pd.Timestamp,
    params: RecommenderParams,
    sellable: Collection[str] | None = None,
    collaborative: pd.DataFrame = NO_SCORES,
) -> pd.DataFrame:
    """The recommender: every source's candidates (`collaborative`: ALS's best products of the
    users), scored by the blend; only `sellable` products when given; then best-sellers."""
    features = candidate_features(
        history,
        users,
        catalogue,
        as_of,
        per_source=params.candidates_per_source,
        popular_candidates=params.popular_candidates,
        allow_repurchase=params.allow_repurchase,
        collaborative=collaborative,
    )
    if sellable is not None:
        features = features.loc[features["product_id"].isin(list(sellable))]
    scored = features[[*KEYS, "source"]].assign(score=weights.score(features))
    return top_n(scored, users, catalogue.popular, params.n, excluded(history, params))


def training_examples(snapshot: Snapshot, params: RecommenderParams) -> pd.DataFrame:
    """The candidates of a day's buyers with their features and `label` 1 when bought that day."""
    features = candidate_features(
        snapshot.history,
        snapshot.users,
        snapshot.catalogue,
        snapshot.as_of,
        per_source=params.candidates_per_source,
        popular_candidates=params.popular_candidates,
        allow_repurchase=params.allow_repurchase,
        collaborative=snapshot.collaborative,
    )
    labels = snapshot.truth[KEYS].drop_duplicates().assign(label=1.0)
    examples = features.merge(labels, on=KEYS, how="left")
    return examples.assign(label=examples["label"].fillna(0.0))


def fit_on(snapshots: list[Snapshot], params: RecommenderParams) -> BlendWeights:
    """Blend weights fit on the buyers of the given days (FALLBACK when too few bought candidates)."""
    examples = [training_examples(snapshot, params) for snapshot in snapshots]
    if not examples:
        return fit_blend(pd.DataFrame(columns=["label"]), np.zeros(0))
    rows = pd.concat(examples, ignore_index=True)
    return fit_blend(rows, rows["label"].to_numpy("float64"))
