"""Ranking metrics per (user, day), catalogue coverage, and a paired cluster bootstrap over users.

Plain pandas/numpy: the evaluation collects each day's buyers and their top-k lists (small) and
scores them here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

PER_USER_METRICS = ("hit_rate", "recall", "ndcg")
CONFIDENCE = 0.95


def per_user_metrics(recommended: pd.DataFrame, relevant: pd.DataFrame, k: int) -> pd.DataFrame:
    """One row per user with relevant items: user_id, hit_rate, recall, ndcg (each in [0, 1]).

    `recommended` has user_id, product_id, rank (1 = best); `relevant` has user_id, product_id (what
    the user bought on the evaluation day). hit_rate = 1 when any relevant item is in the top k;
    recall = relevant items in the top k / relevant items; ndcg = DCG of the top k with binary gain
    over the DCG of an ideal top k (min(relevant, k) hits first). A user without recommendations
    scores 0 on all three.
    """
    truth = relevant.dropna(subset=["user_id", "product_id"])[["user_id", "product_id"]].drop_duplicates()
    if truth.empty:
        return pd.DataFrame({"user_id": pd.Series(dtype=object), **{m: [] for m in PER_USER_METRICS}})
    top = recommended.loc[recommended["rank"] <= k, ["user_id", "product_id", "rank"]]
    top = top.sort_values("rank").drop_duplicates(["user_id", "product_id"])
    scored = truth.merge(top, on=["user_id", "product_id"], how="left")
    hit = scored["rank"].notna()
    gain = np.where(hit, 1.0 / np.log2(scored["rank"].fillna(1).to_numpy("float64") + 1.0), 0.0)
    per_user = (
        scored.assign(hit=hit, gain=gain)
        .groupby("user_id")
        .agg(relevant=("product_id", "size"), hits=("hit", "sum"), dcg=("gain", "sum"))
    )
    ideal = np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))
    idcg = ideal[np.minimum(per_user["relevant"].to_numpy(), k) - 1]
    return pd.DataFrame(
        {
            "user_id": per_user.index.to_numpy(),
            "hit_rate": (per_user["hits"] > 0).to_numpy("float64"),
            "recall": (per_user["hits"] / per_user["relevant"]).to_numpy("float64"),
            "ndcg": per_user["dcg"].to_numpy("float64") / idcg,
        }
    )


def coverage(recommended: pd.DataFrame, catalogue_size: int, k: int) -> float:
    """Share of the catalogue (the products known at training time) in at least one user's top k."""
    if catalogue_size <= 0:
        return float("nan")
    return float(recommended.loc[recommended["rank"] <= k, "product_id"].nunique() / catalogue_size)


@dataclass(frozen=True)
class Estimate:
    """A mean over (user, day) rows and its bootstrap confidence interval."""

    mean: float
    low: float
    high: float


def cluster_bootstrap(
    values: pd.DataFrame, columns: list[str], draws: int = 1000, seed: int = 0
) -> dict[str, Estimate]:
    """Mean and percentile interval (CONFIDENCE) of each column over the rows of `values` (one row
    per evaluated (user, day), with a user_id column).

    Users are resampled with all their days: a user evaluated on several days is one cluster, so
    their days do not count as independent. Every column is resampled with the same draws, so a
    column holding the difference of two models gives the interval of that (paired) difference.
    Deterministic in `seed`.
    """
    if values.empty:
        nan = Estimate(float("nan"), float("nan"), float("nan"))
        return {column: nan for column in columns}
    users, codes = np.unique(values["user_id"].to_numpy(str), return_inverse=True)
    sums = np.zeros((len(users), len(columns)))
    np.add.at(sums, codes, values[columns].to_numpy("float64"))
    rows = np.bincount(codes, minlength=len(users)).astype("float64")
    rng = np.random.default_rng(seed)
    boot = np.empty((draws, len(columns)))
    for draw in range(draws):  # one draw of all users at a time: draws x users stays small
        times = np.bincount(rng.integers(0, len(users), size=len(users)), minlength=len(users))
        boot[draw] = (times @ sums) / (times @ rows)
    tail = (1.0 - CONFIDENCE) / 2.0 * 100.0
    low, high = np.percentile(boot, [tail, 100.0 - tail], axis=0)
    mean = sums.sum(axis=0) / rows.sum()
    return {
        column: Estimate(float(mean[i]), float(low[i]), float(high[i])) for i, column in enumerate(columns)
    }
