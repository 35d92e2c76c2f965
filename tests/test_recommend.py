"""Similarity, recommendations and their evaluation: pandas behaviour, then on Spark by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as sf

from lakehouse.recommend.evaluation import (
    MIN_USERS_TO_COMPARE,
    MODEL_POPULARITY,
    MODEL_RECOMMENDER,
    RecommenderParams,
    evaluate_recommenders,
    last_day_split,
    ranking_metrics,
)
from lakehouse.recommend.recommender import (
    NO_NEIGHBOURS,
    POPULAR_LIMIT,
    SOURCE_POPULAR,
    SOURCE_SIMILAR,
    category_popularity,
    popular_products,
    product_popularity,
    rank_recommendations,
    recommend,
    recommend_in_buckets,
    recommend_users,
    top_candidates,
    user_interest,
)
from lakehouse.recommend.run_step import quality_summary
from lakehouse.recommend.similarity import item_similarity
from tests.test_features import event, events_frame, spark_events


def candidate_rows(rows: list[tuple[str | None, str | None, float | None, bool | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "product_id", "score", "is_bought"])


class TestRankRecommendations:
    def test_ranks_by_score_then_fills_from_popular_skipping_bought(self) -> None:
        rows = candidate_rows(
            [
                ("u1", "b", 2.0, False),
                ("u1", "a", 2.0, False),  # tie with b: product id decides
                ("u1", "c", 5.0, False),
                ("u1", "c", 1.0, False),  # duplicate candidate: the best score counts
                ("u1", "d", 9.0, False),
                ("u1", "d", None, True),  # ... but d was bought
                ("u1", "e", 0.0, False),  # no positive evidence
                ("u1", "x", None, True),
            ]
        )
        result = rank_recommendations(rows, popular=["x", "a", "p", "q"], n=5)
        assert list(result["product_id"]) == ["c", "a", "b", "p", "q"]
        assert list(result["rank"]) == [1, 2, 3, 4, 5]
        assert list(result["source"]) == [SOURCE_SIMILAR] * 3 + [SOURCE_POPULAR] * 2
        assert list(result["recommendation_id"]) == [f"u1#{rank}" for rank in range(1, 6)]
        assert result["score"].iloc[0] == 5.0
        assert result["score"].iloc[3:].isna().all()

    def test_cold_start_user_gets_popular_and_null_users_are_dropped(self) -> None:
        rows = candidate_rows([("new", None, None, None), (None, "a", 3.0, False)])
        result = rank_recommendations(rows, popular=["p", "q", "p", "r"], n=2)
        assert list(zip(result["user_id"], result["product_id"], strict=True)) == [("new", "p"), ("new", "q")]

    def test_fewer_than_n_when_everything_runs_out(self) -> None:
        rows = candidate_rows([("u1", "a", 1.0, False), ("u1", "p", None, True)])
        result = rank_recommendations(rows, popular=["p", "a"], n=10)
        assert list(result["product_id"]) == ["a"]

    def test_no_rows_gives_no_recommendations(self) -> None:
        assert rank_recommendations(candidate_rows([]), popular=["p"], n=3).empty

    def test_popular_fill_matches_a_per_user_reference(self) -> None:
        # heavy buyers of popular products need the fill to reach deep into the popular list
        rng = np.random.default_rng(7)
        products = [f"p{i:02d}" for i in range(40)]
        rows = [(f"u{user}", None, None, None) for user in range(60)]
        for user in range(60):
            for product in rng.choice(products, size=rng.integers(0, 25), replace=False):
                rows.append((f"u{user}", str(product), float(rng.integers(-1, 4)), bool(rng.random() < 0.5)))
        frame = candidate_rows(rows)
        popular = products[::-1]
        result = rank_recommendations(frame, popular=popular, n=10)

        for user, user_rows in frame.groupby("user_id"):
            bought = set(user_rows.loc[user_rows["is_bought"].eq(True), "product_id"])
            scored = user_rows.loc[user_rows["product_id"].notna() & (user_rows["score"].fillna(0) > 0)]
            best = scored.groupby("product_id")["score"].max().reset_index()
            best = best.loc[~best["product_id"].isin(bought)]
            best = best.sort_values(["score", "product_id"], ascending=[False, True])
            chosen = list(best["product_id"])[:10]
            fill = [p for p in popular if p not in bought and p not in chosen][: 10 - len(chosen)]
            got = result.loc[result["user_id"] == user].sort_values("rank")
            assert list(got["product_id"]) == chosen + fill, user
            assert list(got["rank"]) == list(range(1, len(chosen) + len(fill) + 1)), user


def interest_rows(rows: list[tuple[str, str, float, bool]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "product_id", "interest", "is_bought"])


def neighbour_rows(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["product_id", "neighbour_product_id", "similarity"])


class TestTopCandidates:
    def test_scores_by_hand_cut_after_bought_products_are_removed(self) -> None:
        interest = interest_rows(
            [
                ("u1", "x", 2.0, True),
                ("u1", "y", 1.0, False),
                ("u1", "w", -1.0, False),
                ("u2", "x", 1.0, False),
            ]
        )
        neighbours = neighbour_rows(
            [("x", "z", 0.5), ("x", "y", 0.5), ("y", "z", 1.0), ("y", "x", 1.0), ("w", "v", 1.0)]
        )
        top = top_candidates(interest, neighbours, n=2, self_weight=1.0)
        # u1: z = 2*0.5 + 1*1.0, y = 2*0.5 + 1 (itself, not bought); x was bought; w has no positive
        # interest, so v gets nothing. u2: z 0.5, y 0.5 (tie: by id), x itself 1.0
        assert [tuple(row) for row in top.itertuples(index=False)] == [
            ("u1", "y", 2.0),
            ("u1", "z", 2.0),
            ("u2", "x", 1.0),
            ("u2", "y", 0.5),
        ]
        sellable = top_candidates(interest, neighbours, n=2, self_weight=1.0, sellable={"z"})
        assert list(sellable["product_id"]) == ["z", "z"]

    def test_popular_products_of_the_liked_categories_by_hand(self) -> None:
        interest = interest_rows(
            [("u1", "x", 2.0, True), ("u1", "y", 1.0, False), ("u2", "w", -1.0, False)]
        ).assign(category_id=["c1", "c1", "c2"])
        categories = pd.DataFrame(
            [("c1", "x", 0.5), ("c1", "p", 0.3), ("c1", "q", 0.2), ("c2", "r", 1.0)],
            columns=["category_id", "product_id", "share"],
        )
        top = top_candidates(
            interest, NO_NEIGHBOURS, n=3, self_weight=1.0, categories=categories, category_weight=10.0
        )
        # u1 likes c1 with interest 3 (x bought, y not): p = 10*0.3*3, q = 10*0.2*3, y = 1 (itself)
        # plus 10*0*3 (not among c1's popular); x was bought. u2 likes nothing, so no c2 product.
        assert [tuple(row) for row in top.itertuples(index=False)] == [
            ("u1", "p", pytest.approx(9.0)),
            ("u1", "q", pytest.approx(6.0)),
            ("u1", "y", 1.0),
        ]
        without = top_candidates(interest, NO_NEIGHBOURS, n=3, self_weight=1.0, categories=categories)
        assert list(without["product_id"]) == ["y"]

    def test_cutting_at_n_changes_no_recommendation(self) -> None:
        rng = np.random.default_rng(3)
        products = [f"p{i}" for i in range(40)]
        interest = interest_rows(
            [
                (f"u{user}", str(product), float(rng.normal(1.0, 1.0)), bool(rng.random() < 0.2))
                for user in range(30)
                for product in rng.choice(products, size=6, replace=False)
            ]
        )
        neighbours = neighbour_rows(
            [
                (a, str(b), float(rng.choice([0.25, 0.5, 1.0])))
                for a in products
                for b in rng.choice(products, size=5, replace=False)
                if a != b
            ]
        )
        users = interest[["user_id"]].drop_duplicates().assign(product_id=None)
        rows = pd.concat([interest, users], ignore_index=True)
        popular = products[::-1]
        result = recommend_users(rows, neighbours, popular, n=5, self_weight=0.5)
        every = top_candidates(interest, neighbours, n=len(products), self_weight=0.5)
        bought = interest.loc[interest["is_bought"], ["user_id", "product_id"]]
        reference = rank_recommendations(
            pd.concat(
                [
                    every.assign(is_bought=False),
                    bought.assign(score=float("nan"), is_bought=True),
                    users.assign(score=float("nan"), is_bought=False),
                ]
            ),
            popular,
            5,
        )
        pd.testing.assert_frame_equal(result, reference)
        assert (result.groupby("user_id").size() == 5).all()


class TestRankingMetrics:
    def test_hit_rate_and_recall_by_hand(self) -> None:
        recommended = pd.DataFrame(
            {"user_id": ["u1", "u1", "u2", "u2"], "product_id": ["a", "b", "c", "d"], "rank": [1, 2, 1, 11]}
        )
        relevant = pd.DataFrame(
            {
                "user_id": ["u1", "u1", "u2", "u3", None, "u1"],
                "product_id": ["a", "z", "d", "a", "a", "a"],
            }
        )
        users, hit_rate, recall = ranking_metrics(recommended, relevant, k=10)
        # u1: 1 of {a, z} in top 10; u2: d is at rank 11; u3 has no recommendations at all
        assert users == 3
        assert hit_rate == pytest.approx(1 / 3)
        assert recall == pytest.approx((0.5 + 0 + 0) / 3)

    def test_nothing_to_evaluate(self) -> None:
        empty = pd.DataFrame({"user_id": [], "product_id": [], "rank": []})
        users, hit_rate, recall = ranking_metrics(empty, empty, k=10)
        assert users == 0
        assert math.isnan(hit_rate)
        assert math.isnan(recall)


SIMILARITY_ROWS = [
    event("u1", "s1", "2026-03-01 10:00:00", "product_view", "a"),
    event("u1", "s1", "2026-03-01 10:01:00", "product_view", "b"),
    event("u1", "s1", "2026-03-01 10:02:00", "add_to_cart", "b"),  # same (session, item): counted once
    event("u1", "s1", "2026-03-01 10:03:00", "product_view", "c"),  # beyond the cap of 2 items
    event("u2", "s2", "2026-03-01 11:00:00", "product_view", "a"),
    event("u2", "s2", "2026-03-01 11:01:00", "product_view", "b"),
    event("u3", "s3", "2026-03-01 12:00:00", "product_view", "a"),
    event("u3", "s3", "2026-03-01 12:01:00", "product_view", "d"),
    event("u3", "s3", "2026-03-01 12:02:00", "page_view"),
    event("bot", "s4", "2026-03-01 12:00:00", "product_view", "c", bot=True),
    event("bot", "s4", "2026-03-01 12:01:00", "product_view", "d", bot=True),
]


@pytest.mark.spark
class TestOnSpark:
    def test_item_similarity_by_hand(self, spark: SparkSession) -> None:
        events = spark_events(spark, events_frame(SIMILARITY_ROWS))
        result = item_similarity(events, top_k=1, max_items_per_session=2).toPandas()
        by_item = result.set_index("product_id")
        # sessions: a in s1,s2,s3; b in s1,s2; d in s3 (c is past the cap, the bot is ignored)
        assert by_item.loc["a", "neighbour_product_id"] == "b"  # 2/sqrt(3*2) beats 1/sqrt(3*1)
        assert by_item.loc["a", "similarity"] == pytest.approx(2 / math.sqrt(6))
        assert by_item.loc["b", "neighbour_product_id"] == "a"
        assert by_item.loc["d", "similarity"] == pytest.approx(1 / math.sqrt(3))
        assert by_item.loc["a", "co_sessions"] == 2
        # a was seen with b and with d; the degree counts both, not just the top_k kept
        assert by_item.loc["a", "co_view_degree"] == 2
        assert by_item.loc["b", "co_view_degree"] == 1
        assert sorted(result["pair_id"]) == ["a>b", "b>a", "d>a"]
        assert set(result["neighbour_rank"]) == {1}

    def test_recommend_by_hand(self, spark: SparkSession) -> None:
        rows = [
            *SIMILARITY_ROWS,
            event("u4", "s5", "2026-03-01 13:00:00", "product_view", "a"),
            event("u4", "s5", "2026-03-01 13:01:00", "purchase", "a"),
        ]
        events = spark_events(spark, events_frame(rows))
        similarity = item_similarity(events, top_k=5, max_items_per_session=2)
        users = spark.createDataFrame([("u4",), ("u9",)], "user_id string")
        result = recommend(
            events,
            users,
            similarity,
            as_of=pd.Timestamp("2026-03-01 13:01:00"),
            n=3,
            half_life_days=7.0,
            self_weight=1.0,
        ).toPandas()
        u4 = result.loc[result["user_id"] == "u4"].sort_values("rank")
        # u4 bought a (so never a again): its neighbours b (2/sqrt(4*2)) then d (1/sqrt(4*1)),
        # then the most popular products: a (1 buyer), b (2 users), c and d (1 user each)
        assert list(u4["product_id"]) == ["b", "d", "c"]
        assert list(u4["source"]) == [SOURCE_SIMILAR, SOURCE_SIMILAR, SOURCE_POPULAR]
        assert u4["score"].iloc[0] == pytest.approx(3 * 2 / math.sqrt(8), rel=1e-3)
        u9 = result.loc[result["user_id"] == "u9"].sort_values("rank")
        assert list(u9["source"]) == [SOURCE_POPULAR] * 3  # cold start
        assert list(u9["product_id"]) == ["a", "b", "c"]
        interest = user_interest(events, pd.Timestamp("2026-03-01 13:01:00"), 7.0)
        popular = popular_products(product_popularity(events), POPULAR_LIMIT)
        baseline = recommend_in_buckets(users, interest, NO_NEIGHBOURS, popular, n=3, self_weight=0.0)
        baseline = baseline.toPandas()
        assert "a" not in set(baseline.loc[baseline["user_id"] == "u4", "product_id"])

    def test_category_popularity_by_hand(self, spark: SparkSession) -> None:
        rows = [
            event("u1", "s1", "2026-03-01 10:00:00", "purchase", "a", "c1"),
            event("u2", "s2", "2026-03-01 10:00:00", "purchase", "a", "c1"),
            event("u2", "s2", "2026-03-01 10:01:00", "product_view", "b", "c1"),
            event("u3", "s3", "2026-03-01 10:00:00", "product_view", "b", "c1"),
            event("u3", "s3", "2026-03-01 10:01:00", "product_view", "c", "c1"),
            event("u4", "s4", "2026-03-01 10:00:00", "product_view", "d", "c2"),
            event("bot", "s5", "2026-03-01 10:00:00", "purchase", "c", "c1", bot=True),
        ]
        events = spark_events(spark, events_frame(rows))
        shares = category_popularity(product_popularity(events), per_category=2).sort_values(
            ["category_id", "share"]
        )
        # c1: a has 2 buyers (2.0), b 2 viewers (0.2), c 1 viewer (0.1; the bot's purchase does not
        # count) and is cut at 2 per category; c2: d alone
        assert [(row.category_id, row.product_id) for row in shares.itertuples()] == [
            ("c1", "b"),
            ("c1", "a"),
            ("c2", "d"),
        ]
        assert list(shares["share"]) == pytest.approx([0.2 / 2.3, 2.0 / 2.3, 1.0])

    def test_recommender_beats_popularity_on_a_world_with_tastes(self, spark: SparkSession) -> None:
        events = spark_events(spark, events_frame(taste_world()))
        result = evaluate_recommenders(spark, events, RecommenderParams(), k=10).toPandas()
        by_model = result.set_index("model_name")
        assert set(by_model.index) == {MODEL_RECOMMENDER, MODEL_POPULARITY}
        assert (by_model["users_evaluated"] == 30).all()
        assert by_model.loc[MODEL_RECOMMENDER, "hit_rate"] > by_model.loc[MODEL_POPULARITY, "hit_rate"]
        assert by_model.loc[MODEL_RECOMMENDER, "recall"] > by_model.loc[MODEL_POPULARITY, "recall"]
        assert by_model.loc[MODEL_RECOMMENDER, "eval_date"] == dt.date(2026, 3, 4)
        assert by_model.loc[MODEL_RECOMMENDER, "train_end_date"] == dt.date(2026, 3, 3)

    def test_an_evaluation_is_kept_until_the_events_or_the_settings_change(self, spark: SparkSession) -> None:
        """An incremental run with fct_events not rebuilt since and the same settings keeps the last
        rows (marked here, so keeping them shows); a rebuilt fct_events or other settings evaluate
        again, to what a first evaluation gives."""
        frame = events_frame(taste_world())
        events = spark_events(spark, frame)
        first = evaluate_recommenders(spark, events, RecommenderParams(), k=10)
        expected = first.drop("_ingested_at").toPandas().sort_values("model_name", ignore_index=True)
        settings = "category_weight=30.0 half_life_days=7.0 k=10 max_items_per_session=20 n=10"
        assert expected["settings"].tolist() == [f"{settings} self_weight=1.0 top_k=20"] * 2
        marked = first.withColumn("hit_rate", sf.lit(-1.0)).localCheckpoint()

        kept = evaluate_recommenders(spark, events, RecommenderParams(), k=10, previous=marked).toPandas()
        assert kept["hit_rate"].tolist() == [-1.0, -1.0]
        assert kept["_ingested_at"].tolist() == [pd.Timestamp("2026-03-10 13:00:00")] * 2

        rebuilt = spark_events(spark, frame, built_at="2026-03-10 14:00:00")
        again = evaluate_recommenders(spark, rebuilt, RecommenderParams(), k=10, previous=marked)
        got = again.drop("_ingested_at").toPandas().sort_values("model_name", ignore_index=True)
        pd.testing.assert_frame_equal(got, expected)

        other = evaluate_recommenders(spark, events, RecommenderParams(top_k=5), k=10, previous=marked)
        assert (other.toPandas()["hit_rate"] >= 0).all()

    def test_a_straggler_date_is_not_the_evaluation_day(self, spark: SparkSession) -> None:
        # one session running past midnight opens 2026-03-05 with a single buyer
        straggler = event("u0", "u0s8", "2026-03-05 00:05:00", "purchase", "pop1")
        events = spark_events(spark, events_frame([*taste_world(), straggler]))
        day, train, purchased = last_day_split(events)
        assert day == dt.date(2026, 3, 4)
        assert purchased.count() == 30
        assert train.agg({"event_ts": "max"}).first()[0] < dt.datetime(2026, 3, 4)
        # no date has enough buyers: the newest date with a purchase, whatever its size
        day, _train, purchased = last_day_split(events, min_buyers=31)
        assert day == dt.date(2026, 3, 5)
        assert purchased.collect() == [("u0", "pop1")]


def taste_world() -> list[tuple[object, ...]]:
    """30 users in 3 taste groups of 12 products each; 2 globally popular products everyone buys.

    Training days: each user browses products of its group (and buys one popular product); on the
    last day each user buys an unseen product from its group, which only taste can predict.
    """
    rng = np.random.default_rng(7)
    rows: list[tuple[object, ...]] = []
    for user in range(30):
        group = user % 3
        catalogue = [f"g{group}p{i}" for i in range(12)]
        seen = rng.choice(catalogue[:8], size=4, replace=False)
        for day, product in enumerate(seen):
            ts = f"2026-03-0{1 + day % 3} 1{day}:00:00"
            session = f"u{user}s{day}"
            rows.append(event(f"u{user}", session, ts, "product_view", str(product)))
            rows.append(event(f"u{user}", session, ts, "product_view", str(seen[(day + 1) % 4])))
        popular = f"pop{user % 2}"
        rows.append(event(f"u{user}", f"u{user}s9", "2026-03-02 09:00:00", "purchase", popular))
        target = catalogue[8 + user % 4]
        rows.append(
            event(f"u{user}", f"u{user}s5", "2026-03-03 20:00:00", "product_view", catalogue[user % 8])
        )
        rows.append(event(f"u{user}", f"u{user}s5", "2026-03-03 20:01:00", "product_view", target))
        rows.append(event(f"u{user}", f"u{user}s8", "2026-03-04 10:00:00", "purchase", target))
    return rows


class TestRunSummary:
    def rows(self, reco: float, popular: float, users: int = 40) -> list[dict[str, object]]:
        common = {"k": 10, "users_evaluated": users, "recall": 0.1}
        return [
            {"model_name": MODEL_RECOMMENDER, "hit_rate": reco, **common},
            {"model_name": MODEL_POPULARITY, "hit_rate": popular, **common},
        ]

    def test_keys_for_the_run_summary(self) -> None:
        summary, failures = quality_summary(self.rows(0.31234567, 0.2))
        assert summary["reco_hit_rate_at_10"] == 0.3123
        assert summary["popularity_hit_rate_at_10"] == 0.2
        assert summary["reco_recall_at_10"] == 0.1
        assert summary["reco_users_evaluated"] == 40
        assert failures == []

    def test_not_beating_popularity_is_a_failed_check(self) -> None:
        _summary, failures = quality_summary(self.rows(0.2, 0.2))
        assert len(failures) == 1
        assert "does not beat popularity" in failures[0]

    def test_too_few_users_report_without_gating(self) -> None:
        summary, failures = quality_summary(self.rows(0.0, 0.0, users=MIN_USERS_TO_COMPARE - 1))
        assert failures == []
        assert summary["reco_quality_gated"] is False
        assert summary["reco_hit_rate_at_10"] == 0.0
        _summary, gated = quality_summary(self.rows(0.0, 0.0, users=MIN_USERS_TO_COMPARE))
        assert len(gated) == 1

    def test_missing_model_row_is_a_failed_check(self) -> None:
        summary, failures = quality_summary(self.rows(0.3, 0.2)[:1])
        assert summary == {}
        assert failures == ["reco_evaluation: no row for popularity"]
