"""Top-n lists from scored candidates, filled up from the best-sellers (cold start, short lists)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from lakehouse.recommend.candidates import KEYS, SOURCE_POPULAR, without

RECOMMENDATIONS_SCHEMA = (
    "recommendation_id string, user_id string, rank int, product_id string, score double, source string"
)
RECOMMENDATION_COLUMNS = [field.split()[0] for field in RECOMMENDATIONS_SCHEMA.split(", ")]


def top_n(
    scored: pd.DataFrame, users: pd.Series, popular: Sequence[str], n: int, excluded: pd.DataFrame
) -> pd.DataFrame:
    """The `n` best products per user of `users`, filled up from `popular` (in order).

    `scored` has user_id, product_id, score and source; only positive scores count, a duplicate
    (user, product) keeps its best score, and ties rank by product id. No user gets a product in
    `excluded` (user_id, product_id). Output: RECOMMENDATION_COLUMNS, one row per (user, rank),
    rank 1..n (fewer only when the candidates and popular products run out); fill-ins have
    source `popular` and a null score.
    """
    users = pd.Series(users, dtype=object).dropna().drop_duplicates()
    excluded = excluded[KEYS].drop_duplicates()
    candidates = scored.loc[scored["user_id"].isin(users) & (scored["score"].fillna(0.0) > 0)]
    candidates = candidates.sort_values(["user_id", "score", "product_id"], ascending=[True, False, True])
    candidates = without(candidates.drop_duplicates(KEYS), excluded)
    candidates["rank"] = candidates.groupby("user_id").cumcount() + 1
    chosen = candidates.loc[candidates["rank"] <= n, [*KEYS, "score", "source", "rank"]]

    ranked_popular = pd.DataFrame({"product_id": list(dict.fromkeys(popular))})
    ranked_popular["popularity_rank"] = range(len(ranked_popular))
    # Only users with room get a fill, from only as deep into the popular list as the most excluded
    # user can need: n plus its excluded or chosen products among them (users x 200 rows otherwise).
    taken = pd.concat([excluded, chosen[KEYS]])
    taken = taken.loc[taken["product_id"].isin(ranked_popular["product_id"])]
    depth = n + int(taken.groupby("user_id").size().max()) if len(taken) else n
    full = chosen.loc[chosen["rank"] == n, "user_id"]
    with_room = pd.DataFrame({"user_id": users.loc[~users.isin(full)]})
    fill = with_room.merge(ranked_popular.head(depth), how="cross")
    fill = without(without(fill, excluded), chosen).sort_values(["user_id", "popularity_rank"])
    already = chosen.groupby("user_id").size().reindex(fill["user_id"]).fillna(0).to_numpy("int64")
    fill["rank"] = fill.groupby("user_id").cumcount().to_numpy() + 1 + already
    fill = fill.loc[fill["rank"] <= n].assign(score=float("nan"), source=SOURCE_POPULAR)

    result = pd.concat([chosen, fill[[*KEYS, "score", "source", "rank"]]], ignore_index=True)
    result["rank"] = result["rank"].astype("int32")
    result["score"] = result["score"].astype("float64")
    result["recommendation_id"] = result["user_id"].astype(str) + "#" + result["rank"].astype(str)
    return result.sort_values(["user_id", "rank"]).reset_index(drop=True)[RECOMMENDATION_COLUMNS]
