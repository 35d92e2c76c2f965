"""The recommender, its baselines and their evaluation: pandas behaviour by hand, then on Spark."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pyspark.sql import SparkSession
from pyspark.sql import functions as sf

from lakehouse.features.events import newest_micros
from lakehouse.recommend.als import AlsModel, ItemFactors, als_scores, fit_als, implicit_ratings
from lakehouse.recommend.blend import FALLBACK, INTERCEPT, MIN_POSITIVES, BlendWeights, fit_blend
from lakehouse.recommend.candidates import (
    FEATURES,
    SOURCE_ALS,
    SOURCE_CATEGORY,
    SOURCE_OWN,
    SOURCE_POPULAR,
    SOURCE_SIMILAR,
    SOURCES,
    Catalogue,
    candidate_features,
    category_scores,
    own_scores,
    similar_scores,
)
from lakehouse.recommend.evaluation import (
    EVALUATION_COLUMNS,
    EVALUATION_SCHEMA,
    MIN_USERS_TO_COMPARE,
    MODEL_ALS,
    MODEL_ITEM_TO_ITEM,
    MODEL_POPULARITY,
    MODEL_RECENT,
    MODEL_RECOMMENDER,
    MODELS,
    evaluate_recommenders,
    evaluation_days,
    evaluation_settings,
    reusable_evaluation,
    run_evaluation,
)
from lakehouse.recommend.history import HISTORY_SCHEMA, cutoff_micros, known_user_events, user_history
from lakehouse.recommend.metrics import cluster_bootstrap, coverage, per_user_metrics
from lakehouse.recommend.models import (
    recommend_blend,
    recommend_item_to_item,
    recommend_popularity,
    recommend_recent,
)
from lakehouse.recommend.params import AlsParams, EvaluationParams, RecommenderParams
from lakehouse.recommend.ranking import top_n
from lakehouse.recommend.recommender import (
    FACTORS_SCHEMA,
    blend_weights,
    recommend_in_buckets,
    user_recommendations,
)
from lakehouse.recommend.run_step import quality_line, quality_summary
from lakehouse.recommend.similarity import item_similarity, neighbours_as_of
from lakehouse.recommend.snapshots import days_before, take_snapshots
from tests.reco_worlds import frame, row, spark_frame, taste_world
from tests.test_features import event, events_frame, spark_events

AS_OF = pd.Timestamp("2026-03-05")


def history_rows(
    rows: list[tuple[str, str, float, int, int, int, str | None, str | None, str]],
) -> pd.DataFrame:
    """(user, product, recency, views, carts, purchases, last_ts, last_purchase_ts, category) rows."""
    columns = [
        "user_id",
        "product_id",
        "recency",
        "views",
        "carts",
        "purchases",
        "last_ts",
        "last_purchase_ts",
    ]
    history = pd.DataFrame(rows, columns=[*columns, "category_id"])
    history["last_ts"] = pd.to_datetime(history["last_ts"])
    history["last_purchase_ts"] = pd.to_datetime(history["last_purchase_ts"])
    return history


HISTORY = history_rows(
    [
        ("u1", "a", 1.0, 1, 0, 0, "2026-03-04", None, "c1"),
        ("u1", "b", 0.5, 2, 1, 0, "2026-03-03", None, "c1"),  # still in the cart
        ("u1", "c", 0.2, 1, 0, 1, "2026-03-01", "2026-03-01", "c2"),  # bought
        ("u2", "a", 0.9, 1, 0, 0, "2026-03-04", None, "c1"),
    ]
)
NEIGHBOURS = pd.DataFrame(
    {"product_id": ["a", "a", "b"], "neighbour_product_id": ["d", "e", "d"], "similarity": [0.5, 0.2, 0.4]}
)
POPULARITY = pd.DataFrame(
    {
        "product_id": list("abcdefg"),
        "category_id": ["c1", "c1", "c2", "c1", "c1", "c2", None],
        "buyers": [5, 4, 3, 2, 1, 0, 9],
        "users": [9, 8, 7, 6, 5, 4, 10],
        "recent_buyers": [1, 1, 1, 1, 0, 0, 3],
    }
)
CATALOGUE = Catalogue.build(NEIGHBOURS, POPULARITY)
USERS = pd.Series(["u1", "u2", "u3"])


def scored(rows: list[tuple[str, str, float]], source: str = SOURCE_OWN) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "product_id", "score"]).assign(source=source)


NOTHING = pd.DataFrame({"user_id": pd.Series(dtype=object), "product_id": pd.Series(dtype=object)})


class TestTopN:
    def test_ranks_by_score_then_fills_from_popular_skipping_excluded(self) -> None:
        rows = scored(
            [
                ("u1", "b", 2.0),
                ("u1", "a", 2.0),  # tie with b: product id decides
                ("u1", "c", 5.0),
                ("u1", "c", 1.0),  # duplicate candidate: the best score counts
                ("u1", "d", 9.0),  # ... but d is excluded
                ("u1", "e", 0.0),  # no positive evidence
            ]
        )
        excluded = pd.DataFrame({"user_id": ["u1", "u1"], "product_id": ["d", "x"]})
        result = top_n(rows, pd.Series(["u1"]), ["x", "a", "p", "q"], 5, excluded)
        assert list(result["product_id"]) == ["c", "a", "b", "p", "q"]
        assert list(result["rank"]) == [1, 2, 3, 4, 5]
        assert list(result["source"]) == [SOURCE_OWN] * 3 + [SOURCE_POPULAR] * 2
        assert list(result["recommendation_id"]) == [f"u1#{rank}" for rank in range(1, 6)]
        assert result["score"].iloc[0] == 5.0
        assert result["score"].iloc[3:].isna().all()

    def test_cold_start_user_gets_popular_and_unlisted_users_nothing(self) -> None:
        rows = scored([("other", "a", 3.0)])
        result = top_n(rows, pd.Series(["new", None]), ["p", "q", "p", "r"], 2, NOTHING)
        assert list(zip(result["user_id"], result["product_id"], strict=True)) == [("new", "p"), ("new", "q")]

    def test_fewer_than_n_when_everything_runs_out(self) -> None:
        excluded = pd.DataFrame({"user_id": ["u1"], "product_id": ["p"]})
        result = top_n(scored([("u1", "a", 1.0)]), pd.Series(["u1"]), ["p", "a"], 10, excluded)
        assert list(result["product_id"]) == ["a"]

    def test_popular_fill_matches_a_per_user_reference(self) -> None:
        # heavy buyers of popular products need the fill to reach deep into the popular list
        rng = np.random.default_rng(7)
        products = [f"p{i:02d}" for i in range(40)]
        candidates, excluded = [], []
        for user in range(60):
            for product in rng.choice(products, size=rng.integers(0, 25), replace=False):
                target = excluded if rng.random() < 0.5 else candidates
                target.append((f"u{user}", str(product), float(rng.integers(-1, 4))))
        rows = scored(candidates)
        banned = pd.DataFrame([(u, p) for u, p, _s in excluded], columns=["user_id", "product_id"])
        users = pd.Series([f"u{user}" for user in range(60)])
        popular = products[::-1]
        result = top_n(rows, users, popular, 10, banned)
        for user in users:
            out = set(banned.loc[banned["user_id"] == user, "product_id"])
            mine = rows.loc[(rows["user_id"] == user) & (rows["score"] > 0) & ~rows["product_id"].isin(out)]
            best = mine.sort_values(["score", "product_id"], ascending=[False, True])
            chosen = list(best["product_id"].drop_duplicates())[:10]
            fill = [p for p in popular if p not in out and p not in chosen][: 10 - len(chosen)]
            got = result.loc[result["user_id"] == user].sort_values("rank")
            assert list(got["product_id"]) == chosen + fill, user


class TestCandidateSources:
    def test_own_products_by_recency_carted_ones_boosted(self) -> None:
        own = own_scores(HISTORY, allow_repurchase=False).set_index(["user_id", "product_id"])["score"]
        assert own.to_dict() == {("u1", "a"): 1.0, ("u1", "b"): 0.5 * 4.0, ("u2", "a"): 0.9}
        again = own_scores(HISTORY, allow_repurchase=True).set_index(["user_id", "product_id"])["score"]
        assert again[("u1", "c")] == 0.2  # bought: a candidate only when repurchase is allowed

    def test_neighbours_sum_recency_times_similarity_over_seeds(self) -> None:
        similar = similar_scores(HISTORY, NEIGHBOURS).set_index(["user_id", "product_id"])["score"]
        # u1: d = 1.0 x 0.5 (from a) + 0.5 x 0.4 (from b), e = 1.0 x 0.2; u2: d = 0.9 x 0.5, e = 0.9 x 0.2
        assert similar.to_dict() == pytest.approx(
            {("u1", "d"): 0.7, ("u1", "e"): 0.2, ("u2", "d"): 0.45, ("u2", "e"): 0.18}
        )

    def test_category_best_sellers_by_affinity_times_share(self) -> None:
        category = category_scores(HISTORY, CATALOGUE.categories).set_index(["user_id", "product_id"])[
            "score"
        ]
        # c1 popularity: a 5 + 0.4, b 4 + 0.4, d 2 + 0.4, e 1 + 0.4 (sum 13.6); c2: c 3 + 0.4, f 0 + 0.4
        # u1's recency: c1 1.5 of 1.7, c2 0.2 of 1.7; u2: all c1
        assert category[("u1", "a")] == pytest.approx(1.5 / 1.7 * 5.4 / 13.6)
        assert category[("u1", "f")] == pytest.approx(0.2 / 1.7 * 0.4 / 3.8)
        assert category[("u2", "e")] == pytest.approx(1.4 / 13.6)
        assert ("u1", "g") not in category  # g has no category

    def test_candidates_take_the_first_source_and_skip_bought_products(self) -> None:
        features = candidate_features(
            HISTORY, USERS, CATALOGUE, AS_OF, per_source=50, popular_candidates=3, allow_repurchase=False
        )
        source = features.set_index(["user_id", "product_id"])["source"]
        assert source[("u1", "a")] == SOURCE_OWN  # own, a category best-seller and popular: own first
        assert source[("u1", "d")] == SOURCE_SIMILAR
        assert source[("u1", "f")] == SOURCE_CATEGORY
        assert source[("u1", "g")] == SOURCE_POPULAR
        assert ("u1", "c") not in source  # bought
        # a user without history gets the global best-sellers only
        assert sorted(features.loc[features["user_id"] == "u3", "product_id"]) == ["a", "b", "g"]
        assert list(features.columns) == ["user_id", "product_id", "source", *FEATURES]

    def test_als_proposes_candidates_ranked_by_its_score(self) -> None:
        """A collaborative model's products join the candidates with their rank in its list;
        products the other sources proposed keep the other source, bought ones stay out."""
        als = scored([("u2", "f", 0.9), ("u2", "a", 0.5), ("u1", "c", 0.8), ("u9", "f", 1.0)], SOURCE_ALS)
        features = candidate_features(
            HISTORY,
            USERS,
            CATALOGUE,
            AS_OF,
            per_source=50,
            popular_candidates=3,
            allow_repurchase=False,
            collaborative=als,
        ).set_index(["user_id", "product_id"])
        assert features.loc[("u2", "f"), "source"] == SOURCE_ALS  # nobody else proposed f to u2
        assert features.loc[("u2", "f"), "als_rank"] == pytest.approx(1.0)
        assert features.loc[("u2", "a"), "source"] == SOURCE_OWN
        assert features.loc[("u2", "a"), "als_rank"] == pytest.approx(1 / math.log2(3))
        assert ("u1", "c") not in features.index  # bought
        assert "u9" not in features.index.get_level_values("user_id")  # not asked for
        without_als = candidate_features(
            HISTORY, USERS, CATALOGUE, AS_OF, per_source=50, popular_candidates=3, allow_repurchase=False
        )
        assert (without_als["als_rank"] == 0.0).all()

    def test_the_published_sources_are_the_ones_dbt_accepts(self) -> None:
        """user_recommendations.source's accepted_values test lists every candidate source."""
        models = Path(__file__).parents[1] / "python_models" / "features" / "_features__models.yml"
        model = next(
            m for m in yaml.safe_load(models.read_text())["models"] if m["name"] == "user_recommendations"
        )
        column = next(c for c in model["columns"] if c["name"] == "source")
        accepted = next(t["accepted_values"] for t in column["data_tests"] if "accepted_values" in t)
        assert accepted["arguments"]["values"] == list(SOURCES)

    def test_a_day_with_nothing_before_it_has_no_candidates(self) -> None:
        """The first date of a log (a blend training day, say): no history, no best-sellers yet."""
        nothing = Catalogue.build(NEIGHBOURS.iloc[0:0], POPULARITY.iloc[0:0])
        features = candidate_features(
            HISTORY.iloc[0:0],
            USERS,
            nothing,
            AS_OF,
            per_source=50,
            popular_candidates=3,
            allow_repurchase=False,
        )
        assert features.empty
        assert list(features.columns) == ["user_id", "product_id", "source", *FEATURES]

    def test_features_by_hand(self) -> None:
        features = candidate_features(
            HISTORY, USERS, CATALOGUE, AS_OF, per_source=50, popular_candidates=3, allow_repurchase=True
        ).set_index(["user_id", "product_id"])
        b, c, g = features.loc[("u1", "b")], features.loc[("u1", "c")], features.loc[("u1", "g")]
        assert b["in_cart"] == 1.0
        assert b["own_recency"] == pytest.approx(math.log1p(0.5))
        assert b["seen_recently"] == pytest.approx(math.exp(-2 / 2))
        assert b["own_rank"] == pytest.approx(1.0)  # 2.0 (carted) beats a's 1.0
        assert c["bought_before"] == pytest.approx(math.log1p(1))
        assert c["bought_recently"] == pytest.approx(math.exp(-4 / 7))
        assert c["in_cart"] == 0.0
        assert g["own_recency"] == 0.0
        assert g["seen_recently"] == 0.0
        assert g["popular_rank"] == pytest.approx(1.0)  # the best-seller
        assert g["popularity_all"] == pytest.approx(math.log1p(9))
        assert features.loc[("u1", "d"), "similar"] == pytest.approx(math.log1p(7.0))


class TestBaselines:
    params = RecommenderParams(n=4)

    def test_recent_interest_is_the_users_own_unbought_products_most_recent_first(self) -> None:
        result = recommend_recent(HISTORY, USERS, CATALOGUE, self.params)
        u1 = result.loc[result["user_id"] == "u1"]
        assert list(u1["product_id"]) == ["b", "a", "g", "d"]  # then best-sellers, never bought c
        assert list(u1["source"]) == [SOURCE_OWN, SOURCE_OWN, SOURCE_POPULAR, SOURCE_POPULAR]
        again = recommend_recent(HISTORY, USERS, CATALOGUE, RecommenderParams(n=4, allow_repurchase=True))
        assert "c" in set(again.loc[again["user_id"] == "u1", "product_id"])

    def test_item_to_item_leaves_out_the_users_own_products(self) -> None:
        result = recommend_item_to_item(HISTORY, USERS, CATALOGUE, self.params)
        # neighbours d, e; then the best-sellers g and a (a fill skips only bought products)
        assert list(result.loc[result["user_id"] == "u1", "product_id"]) == ["d", "e", "g", "a"]
        assert list(result.loc[result["user_id"] == "u1", "source"])[:2] == [SOURCE_SIMILAR] * 2

    def test_popularity_is_the_same_list_less_what_each_user_bought(self) -> None:
        result = recommend_popularity(HISTORY, USERS, CATALOGUE, self.params)
        assert list(result.loc[result["user_id"] == "u1", "product_id"]) == ["g", "a", "b", "d"]
        assert list(result.loc[result["user_id"] == "u3", "product_id"]) == ["g", "a", "b", "c"]

    def test_the_fallback_blend_puts_own_products_first_then_neighbours(self) -> None:
        result = recommend_blend(HISTORY, USERS, CATALOGUE, FALLBACK, AS_OF, self.params)
        assert list(result.loc[result["user_id"] == "u1", "product_id"]) == ["b", "a", "d", "e"]
        # only sellable candidates (the published model's catalogue holds only sellable best-sellers)
        sellable = recommend_blend(
            HISTORY, USERS, CATALOGUE, FALLBACK, AS_OF, self.params, sellable={"e", "g"}
        )
        assert list(sellable.loc[sellable["user_id"] == "u1", "product_id"]) == ["e", "g", "a", "b"]
        assert list(sellable.loc[sellable["user_id"] == "u1", "source"]) == [
            SOURCE_SIMILAR,
            SOURCE_POPULAR,
            SOURCE_POPULAR,
            SOURCE_POPULAR,
        ]


class TestBlend:
    @staticmethod
    def examples(n: int, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
        """Candidates whose chance of being bought grows with own_rank and nothing else."""
        rng = np.random.default_rng(seed)
        features = pd.DataFrame(rng.random((n, len(FEATURES))), columns=list(FEATURES))
        labels = (rng.random(n) < 1 / (1 + np.exp(-(6 * features["own_rank"] - 4)))).astype(float)
        return features, labels.to_numpy()

    def test_fit_finds_the_feature_that_predicts_purchases(self) -> None:
        features, labels = self.examples(4000)
        weights = fit_blend(features, labels)
        coefficients = dict(zip(FEATURES, weights.coefficients, strict=True))
        assert weights.fitted
        assert weights.positives == int(labels.sum())
        assert max(coefficients, key=lambda name: abs(coefficients[name])) == "own_rank"
        assert coefficients["own_rank"] > 5 * max(abs(v) for k, v in coefficients.items() if k != "own_rank")
        scores = weights.score(features)
        assert scores[labels == 1].mean() > scores[labels == 0].mean() + 0.1

    def test_too_few_positives_fall_back_to_fixed_weights(self) -> None:
        features, _labels = self.examples(500)
        labels = np.zeros(500)
        labels[: MIN_POSITIVES - 1] = 1.0
        weights = fit_blend(features, labels)
        assert not weights.fitted
        assert weights.coefficients == FALLBACK.coefficients
        assert (weights.examples, weights.positives) == (500, MIN_POSITIVES - 1)

    def test_weights_survive_their_table(self) -> None:
        features, labels = self.examples(800)
        weights = fit_blend(features, labels)
        again = BlendWeights.from_frame(weights.to_frame())
        assert again == weights
        np.testing.assert_array_equal(again.score(features), weights.score(features))


class TestMetrics:
    def test_hit_rate_recall_and_ndcg_by_hand(self) -> None:
        recommended = pd.DataFrame(
            {"user_id": ["u1", "u1", "u2", "u2"], "product_id": ["a", "b", "c", "d"], "rank": [1, 2, 1, 11]}
        )
        relevant = pd.DataFrame(
            {"user_id": ["u1", "u1", "u2", "u3", None, "u1"], "product_id": ["b", "z", "d", "a", "a", "b"]}
        )
        result = per_user_metrics(recommended, relevant, k=10).set_index("user_id")
        # u1: b at rank 2 of {b, z}; u2: d at rank 11 is outside the top 10; u3: no recommendations
        assert result["hit_rate"].to_dict() == {"u1": 1.0, "u2": 0.0, "u3": 0.0}
        assert result["recall"].to_dict() == {"u1": 0.5, "u2": 0.0, "u3": 0.0}
        assert result.loc["u1", "ndcg"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
        assert per_user_metrics(recommended, relevant.iloc[:0], k=10).empty

    def test_coverage_counts_distinct_products_in_the_top_k(self) -> None:
        recommended = pd.DataFrame({"product_id": ["a", "a", "b", "c"], "rank": [1, 1, 2, 3]})
        assert coverage(recommended, catalogue_size=10, k=2) == 0.2
        assert math.isnan(coverage(recommended, catalogue_size=0, k=2))

    def test_bootstrap_resamples_users_with_all_their_days(self) -> None:
        rng = np.random.default_rng(0)
        values = pd.DataFrame({"user_id": np.repeat([f"u{i}" for i in range(200)], 3), "x": rng.random(600)})
        values["same"] = 0.5
        estimate = cluster_bootstrap(values, ["x", "same"], draws=500, seed=1)
        assert estimate["x"].mean == pytest.approx(values["x"].mean())
        assert estimate["x"].low < estimate["x"].mean < estimate["x"].high
        assert estimate["same"].low == estimate["same"].high == 0.5
        assert cluster_bootstrap(values, ["x", "same"], draws=500, seed=1) == estimate  # seeded
        # a user's days move together: with three identical days per user the interval is that of
        # 200 independent values, wider than 600 independent values would give
        clustered = pd.DataFrame({"user_id": values["user_id"], "x": np.repeat(rng.random(200), 3)})
        independent = clustered.assign(user_id=[f"v{i}" for i in range(600)])
        width = {
            name: cluster_bootstrap(frame, ["x"], draws=500)["x"]
            for name, frame in (("clustered", clustered), ("independent", independent))
        }
        assert (width["clustered"].high - width["clustered"].low) > 1.4 * (
            width["independent"].high - width["independent"].low
        )


class TestSettings:
    def test_dbt_renders_vars_as_text(self) -> None:
        params = RecommenderParams.from_mapping({"allow_repurchase": "True", "n": "5"})
        assert params.allow_repurchase is True
        assert params.n == 5
        assert RecommenderParams.from_mapping({"allow_repurchase": "false"}).allow_repurchase is False
        evaluation = EvaluationParams.from_mapping({"days": "20", "als_ranks": [8, 16]})
        assert (evaluation.days, evaluation.als_ranks) == (20, (8.0, 16.0))
        with pytest.raises(ValueError, match="unknown"):
            RecommenderParams.from_mapping({"self_weight": 1})
        with pytest.raises(ValueError, match="boolean"):
            RecommenderParams.from_mapping({"allow_repurchase": "maybe"})


class TestEvaluationDays:
    def test_the_newest_days_with_enough_buyers_skipping_a_straggler(self) -> None:
        buyers = pd.DataFrame(
            {
                "day": [dt.date(2026, 3, d) for d in range(1, 7)],
                "buyers": [40, 35, 12, 31, 33, 1],  # 03-06: a session running past midnight
            }
        )
        assert evaluation_days(buyers, EvaluationParams(days=3, min_buyers=30)) == [
            dt.date(2026, 3, 2),
            dt.date(2026, 3, 4),
            dt.date(2026, 3, 5),
        ]
        # no date has enough buyers: the newest date with one, reported but not gated
        assert evaluation_days(buyers, EvaluationParams(days=3, min_buyers=50)) == [dt.date(2026, 3, 6)]
        assert days_before(buyers, dt.date(2026, 3, 4), 2) == [dt.date(2026, 3, 2), dt.date(2026, 3, 3)]


def evaluation_row(model: str, hit_rate: float, lift: tuple[float, float, float] | None) -> dict[str, object]:
    low, mean, high = lift if lift else (None, None, None)
    return {
        "model_name": model,
        "is_baseline": model != MODEL_RECOMMENDER,
        "k": 10,
        "eval_days": 3,
        "first_eval_date": dt.date(2026, 3, 6),
        "eval_date": dt.date(2026, 3, 8),
        "train_end_date": dt.date(2026, 3, 7),
        "users_evaluated": 120,
        "user_days": 150,
        **{f"{m}{end}": hit_rate for m in ("hit_rate", "recall", "ndcg") for end in ("", "_low", "_high")},
        "coverage": 0.3,
        "hit_rate_lift": mean,
        "hit_rate_lift_low": low,
        "hit_rate_lift_high": high,
    }


class TestRunSummary:
    @staticmethod
    def rows(lift: tuple[float, float, float], user_days: int = 150) -> list[dict[str, object]]:
        rows = [
            evaluation_row(MODEL_RECOMMENDER, 0.30, None),
            evaluation_row(MODEL_RECENT, 0.28, lift),  # the best baseline
            evaluation_row(MODEL_POPULARITY, 0.05, (0.2, 0.25, 0.3)),
        ]
        for entry in rows:
            entry["user_days"] = user_days
        return rows

    def test_keys_for_every_model_and_the_best_baseline(self) -> None:
        summary, failures = quality_summary(self.rows((-0.01, 0.02, 0.05)))
        assert failures == []
        assert summary["reco_hit_rate_at_10"] == 0.3
        assert summary["recent_interest_hit_rate_at_10"] == 0.28
        assert summary["popularity_ndcg_at_10_ci"] == [0.05, 0.05]
        assert summary["reco_best_baseline"] == MODEL_RECENT
        assert summary["reco_lift_vs_best_baseline_hit_rate_at_10"] == 0.02
        assert summary["reco_lift_vs_best_baseline_hit_rate_at_10_ci"] == [-0.01, 0.05]
        assert summary["reco_quality_gated"] is True
        assert "vs best baseline recent_interest 0.28" in quality_line(summary)

    def test_only_an_interval_entirely_below_zero_fails(self) -> None:
        _summary, failures = quality_summary(self.rows((-0.06, -0.03, -0.001)))
        assert len(failures) == 1
        assert "below the best baseline recent_interest" in failures[0]
        # worse by the point estimate but not beyond noise: passes
        assert quality_summary(self.rows((-0.06, -0.03, 0.001)))[1] == []

    def test_too_few_user_days_report_without_gating(self) -> None:
        summary, failures = quality_summary(
            self.rows((-0.06, -0.03, -0.001), user_days=MIN_USERS_TO_COMPARE - 1)
        )
        assert failures == []
        assert summary["reco_quality_gated"] is False

    def test_missing_rows_are_a_failed_check(self) -> None:
        summary, failures = quality_summary(self.rows((0.0, 0.0, 0.0))[1:])
        assert summary == {}
        assert failures == ["reco_evaluation: no row for the recommender or no baseline"]


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
# A small evaluation: few days, little bootstrap, a two-point ALS grid of tiny ranks
SMALL_EVALUATION = EvaluationParams(
    days=3,
    min_buyers=10,
    bootstrap_draws=200,
    als_ranks=(4.0, 8.0),
    als_reg_params=(0.1,),
    als_alphas=(10.0,),
    als_max_iter=5,
)


@pytest.fixture(scope="module")
def world(spark: SparkSession) -> pd.DataFrame:
    return taste_world()


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

    def test_neighbours_as_of_each_day_equal_item_similarity_before_it(
        self, spark: SparkSession, world: pd.DataFrame
    ) -> None:
        # sessions that run past midnight move their late items to the next cut-off
        late = frame(
            [
                row("u00", "u00d1b", "2026-03-02 23:59:00", "product_view", "g0p5", "c0"),
                row("u00", "u00d1b", "2026-03-03 00:01:00", "product_view", "g0p6", "c0"),
            ]
        )
        events = spark_frame(spark, pd.concat([world, late], ignore_index=True))
        days = [dt.date(2026, 3, 3), dt.date(2026, 3, 6), dt.date(2026, 3, 9)]
        cutoffs = spark.createDataFrame(pd.DataFrame({"cutoff": days}), "cutoff date")
        together = neighbours_as_of(events, cutoffs, top_k=3, max_items_per_session=3).toPandas()
        for day in days:
            alone = item_similarity(events.where(sf.to_date("event_ts") < sf.lit(day)), 3, 3).toPandas()
            mine = together.loc[together["cutoff"] == day].drop(columns="cutoff")
            expected = alone[["product_id", "neighbour_product_id", "similarity"]]
            pd.testing.assert_frame_equal(
                mine.sort_values(["product_id", "neighbour_product_id"], ignore_index=True),
                expected.sort_values(["product_id", "neighbour_product_id"], ignore_index=True),
            )
            assert len(expected) > 0

    def test_anonymous_browsing_counts_for_the_one_user_of_its_cookie(self, spark: SparkSession) -> None:
        rows = [
            row("u1", "s1", "2026-03-01 10:00:00", "purchase", "a", anonymous="cookie1"),
            row(None, "s0", "2026-03-01 09:00:00", "product_view", "b", anonymous="cookie1"),  # before login
            row("u2", "s2", "2026-03-01 10:00:00", "product_view", "a", anonymous="shared"),
            row("u3", "s3", "2026-03-01 11:00:00", "product_view", "a", anonymous="shared"),
            row(None, "s4", "2026-03-01 12:00:00", "product_view", "c", anonymous="shared"),  # two users
            row(None, "s5", "2026-03-01 12:00:00", "product_view", "d", anonymous="stranger"),
            row("u4", "s6", "2026-03-01 12:00:00", "product_view", "e", anonymous="robot", bot=True),
        ]
        known = known_user_events(spark_frame(spark, frame(rows))).toPandas()
        assert sorted(zip(known["user_id"], known["product_id"], strict=True)) == [
            ("u1", "a"),
            ("u1", "b"),
            ("u2", "a"),
            ("u3", "a"),
        ]

    def test_user_history_by_hand_and_per_cutoff(self, spark: SparkSession) -> None:
        rows = [
            row("u1", "s1", "2026-03-01 00:00:00", "product_view", "a", "c1"),
            row("u1", "s1", "2026-03-01 00:00:00", "add_to_cart", "a", "c1"),
            row("u1", "s2", "2026-03-03 00:00:00", "purchase", "a", "c1"),
            row("u1", "s2", "2026-03-03 00:00:00", "remove_from_cart", "b", "c1"),  # no interest
            row("u1", "s3", "2026-03-05 12:00:00", "product_view", "b", "c1"),
        ]
        events = spark_frame(spark, frame(rows))
        history = user_history(events, pd.Timestamp("2026-03-05"), half_life_days=2.0).toPandas()
        a = history.set_index("product_id").loc["a"]
        assert a["recency"] == pytest.approx(2 * 0.5 ** (4 / 2) + 0.5 ** (2 / 2))
        assert (a["views"], a["carts"], a["purchases"]) == (1, 1, 1)
        assert a["last_purchase_ts"] == pd.Timestamp("2026-03-03")
        # b's only interaction is after the as-of time: age 0, recency 1
        assert history.set_index("product_id").loc["b", "recency"] == 1.0
        cutoffs = spark.createDataFrame(pd.DataFrame({"cutoff": [dt.date(2026, 3, 5)]}), "cutoff date")
        before = events.join(cutoffs, sf.to_date("event_ts") < sf.col("cutoff"))
        per_cutoff = user_history(before, cutoff_micros(), 2.0, keys=("cutoff",)).toPandas()
        assert per_cutoff.set_index("product_id").loc["a", "recency"] == a["recency"]  # the same double
        assert "b" not in set(per_cutoff["product_id"])  # b only in a removal before 03-05

    def test_snapshots_know_only_what_came_before_each_day(
        self, spark: SparkSession, world: pd.DataFrame
    ) -> None:
        events = spark_frame(spark, world)
        known = known_user_events(events)
        days = [dt.date(2026, 3, 5), dt.date(2026, 3, 8)]
        snapshots = take_snapshots(spark, events, known, days, RecommenderParams())
        for day in days:
            snapshot = snapshots[day]
            on_day = world.loc[(world["event_ts"].dt.date == day) & (world["event_type"] == "purchase")]
            assert set(zip(snapshot.truth["user_id"], snapshot.truth["product_id"], strict=True)) == set(
                zip(on_day["user_id"], on_day["product_id"], strict=True)
            )
            assert set(snapshot.history["user_id"]) <= set(snapshot.users)
            assert (snapshot.history["last_ts"] < pd.Timestamp(day)).all()
            before = world.loc[(world["event_ts"] < pd.Timestamp(day)) & (world["event_type"] == "purchase")]
            buyers = before.groupby("product_id")["user_id"].nunique()
            popularity = snapshot.catalogue.popularity.set_index("product_id")["buyers"]
            assert popularity[popularity > 0].sort_index().to_dict() == buyers.sort_index().to_dict()

    def test_als_learns_tastes_and_skips_what_is_excluded(
        self, spark: SparkSession, world: pd.DataFrame
    ) -> None:
        events = spark_frame(spark, world.loc[world["event_ts"] < pd.Timestamp("2026-03-09")])
        ratings = implicit_ratings(known_user_events(events))
        users = pd.Series([f"u{i:02d}" for i in range(12)])
        model = fit_als(spark, ratings, AlsParams(rank=8, reg_param=0.1, alpha=10.0, max_iter=5))
        assert model is not None
        factors = model.factors_of(spark, [*users, "nobody"])
        assert sorted(factors.user_ids) == sorted(users)  # only users with ratings have factors
        bought = world.loc[world["event_type"] == "purchase", ["user_id", "product_id"]].drop_duplicates()
        scores = als_scores(factors, users, bought, n=5)
        assert set(scores["user_id"]) == set(users)
        in_group = [
            p.startswith(f"g{int(u[1:]) % 6}")
            for u, p in zip(scores["user_id"], scores["product_id"], strict=True)
        ]
        assert np.mean(in_group) >= 0.8  # its group (1 in 6 by chance): what its views taught ALS
        assert scores.merge(bought, on=["user_id", "product_id"]).empty

    def test_the_recommender_beats_every_baseline_on_returning_buyers(
        self, spark: SparkSession, world: pd.DataFrame
    ) -> None:
        """On the world of buyers who come back for what they viewed or buy their category's
        best-seller, only the blend uses both signals: it beats the user's own recent products,
        their neighbours and global popularity over three days."""
        events = spark_frame(spark, world)
        rows = run_evaluation(spark, events, RecommenderParams(), SMALL_EVALUATION).set_index("model_name")
        assert sorted(rows.index) == sorted(MODELS)
        buyers = world.loc[world["event_type"] == "purchase"].assign(day=world["event_ts"].dt.date)
        last_days = buyers.loc[buyers["day"] >= dt.date(2026, 3, 8)].drop_duplicates(["user_id", "day"])
        assert (rows["eval_days"] == 3).all()
        assert (rows["first_eval_date"] == dt.date(2026, 3, 8)).all()
        assert (rows["user_days"] == len(last_days)).all()
        assert (rows["users_evaluated"] == last_days["user_id"].nunique()).all()
        assert (
            (rows["hit_rate_low"] <= rows["hit_rate"]) & (rows["hit_rate"] <= rows["hit_rate_high"])
        ).all()
        reco = rows.loc[MODEL_RECOMMENDER, "hit_rate"]
        for baseline in (MODEL_POPULARITY, MODEL_RECENT, MODEL_ITEM_TO_ITEM):
            assert reco > rows.loc[baseline, "hit_rate"], baseline
            assert rows.loc[baseline, "hit_rate_lift"] == pytest.approx(reco - rows.loc[baseline, "hit_rate"])
        assert rows.loc[MODEL_ALS, "hit_rate"] > rows.loc[MODEL_POPULARITY, "hit_rate"]
        assert math.isnan(rows.loc[MODEL_RECOMMENDER, "hit_rate_lift"])
        assert "on 2026-03-07" in rows.loc[MODEL_ALS, "model_detail"]  # tuned on the day before
        assert "fitted on 3 days" in rows.loc[MODEL_RECOMMENDER, "model_detail"]

    def test_an_evaluation_is_kept_until_the_events_or_the_settings_change(
        self, spark: SparkSession, world: pd.DataFrame
    ) -> None:
        """An incremental run with fct_events not rebuilt since and the same settings keeps the last
        rows; a rebuilt fct_events, other settings or a table of an older version evaluate again.
        (That evaluating again gives the same rows is checked on the built project, test_pipeline.)"""
        events = spark_frame(spark, world)
        settings = evaluation_settings(RecommenderParams(), SMALL_EVALUATION)
        assert "allow_repurchase=False" in settings
        assert "evaluation_days=3" in settings
        values = {name: None for name in EVALUATION_COLUMNS} | {
            "model_name": MODEL_RECOMMENDER,
            "hit_rate": -1.0,
        }
        previous = spark.createDataFrame([values], EVALUATION_SCHEMA).select(
            "*",
            sf.lit(settings).alias("settings"),
            sf.to_timestamp(sf.lit("2026-03-20")).alias("_ingested_at"),
        )
        built = newest_micros(events, "_ingested_at")
        assert reusable_evaluation(previous, built, settings) is previous
        kept = evaluate_recommenders(spark, events, RecommenderParams(), SMALL_EVALUATION, previous=previous)
        assert kept.toPandas()["hit_rate"].tolist() == [-1.0]

        rebuilt = newest_micros(spark_frame(spark, world, built_at="2026-03-20 01:00:00"), "_ingested_at")
        assert reusable_evaluation(previous, rebuilt, settings) is None
        other = evaluation_settings(RecommenderParams(n=5), SMALL_EVALUATION)
        assert reusable_evaluation(previous, built, other) is None
        assert reusable_evaluation(previous.drop("ndcg"), built, settings) is None  # an older table

    def test_published_recommendations_score_each_users_als_factors(self, spark: SparkSession) -> None:
        """Each bucket of users gets its users' ALS factors: u1's factors point at x, a product no
        other source proposes, u2's at f; without ALS nobody gets x."""
        users = spark.createDataFrame([("u1",), ("u2",), ("u3",)], "user_id string")
        history = spark.createDataFrame(HISTORY, HISTORY_SCHEMA)
        factors = spark.createDataFrame([("u1", [0.0, 1.0]), ("u2", [1.0, 0.0])], FACTORS_SCHEMA)
        items = ItemFactors(pd.Index(["f", "x"]), np.array([[1.0, 0.0], [0.0, 1.0]]))
        params = RecommenderParams(n=10)

        def recommended(als: AlsModel | None) -> pd.DataFrame:
            result = recommend_in_buckets(users, history, CATALOGUE, FALLBACK, AS_OF, params, als, buckets=2)
            return result.toPandas().set_index(["user_id", "product_id"])

        with_als = recommended(AlsModel(factors, items))
        assert with_als.loc[("u1", "x"), "source"] == SOURCE_ALS
        assert ("u2", "x") in with_als.index  # second in u2's ALS list: still a candidate
        assert with_als.loc[("u2", "f"), "source"] in {SOURCE_ALS, SOURCE_CATEGORY, SOURCE_POPULAR}
        assert "x" not in set(with_als.loc["u3"].index)  # no factors: no ALS candidates
        assert "x" not in set(recommended(None).index.get_level_values("product_id"))

    def test_published_recommendations_from_the_fitted_blend(
        self, spark: SparkSession, world: pd.DataFrame
    ) -> None:
        events = spark_frame(spark, world)
        weights = blend_weights(spark, events, RecommenderParams()).toPandas()
        assert sorted(weights["feature"]) == sorted([INTERCEPT, *FEATURES])
        assert weights["fitted"].all()
        assert set(weights["training_dates"]) == {"2026-03-08 2026-03-09 2026-03-10"}
        users = spark.createDataFrame([("u00",), ("u01",), ("newcomer",)], "user_id string")
        sellable = spark.createDataFrame(
            [(f"g{g}p{i}",) for g in range(6) for i in range(9)], "product_id string"
        )
        similarity = item_similarity(events, top_k=20, max_items_per_session=20)
        result = user_recommendations(
            events, users, similarity, sellable, spark.createDataFrame(weights), RecommenderParams(n=5)
        ).toPandas()
        assert result.groupby("user_id").size().to_dict() == {"u00": 5, "u01": 5, "newcomer": 5}
        assert not result["product_id"].str.endswith("p9").any()  # not sellable
        bought = world.loc[world["event_type"] == "purchase", ["user_id", "product_id"]]
        assert result.merge(bought, on=["user_id", "product_id"]).empty
        u00 = result.loc[result["user_id"] == "u00"].sort_values("rank")
        assert u00["product_id"].head(3).str.startswith("g0").all()  # its own category first
        assert set(result.loc[result["user_id"] == "newcomer", "source"]) == {SOURCE_POPULAR}
