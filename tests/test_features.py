"""Feature functions: pure pandas/Arrow behaviour first, then once on Spark through their edge wrappers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

from lakehouse.features.events import age_in_days, age_in_days_column, to_utc_naive
from lakehouse.features.items import daily_view_slopes, item_features, summarize_items
from lakehouse.features.standardize import (
    ColumnStats,
    standardize_array,
    standardize_batch,
    standardize_columns,
)
from lakehouse.features.users import (
    EVENT_COLUMNS,
    decayed_category_affinity,
    summarize_users,
    user_features,
)
from lakehouse.recommend.similarity import item_similarity

AS_OF = pd.Timestamp("2026-03-10 12:00:00")
EVENT_DDL = (  # in events_frame column order: createDataFrame matches columns by position
    "event_id string, user_id string, session_id string, event_ts timestamp, event_type string, "
    "product_id string, category_id string, price_usd double, revenue_usd double, device_type string, "
    "channel string, is_bot boolean"
)


def event(
    user: str | None,
    session: str | None,
    ts: str,
    event_type: str,
    product: str | None = None,
    category: str | None = None,
    price: float | None = None,
    *,
    revenue: float | None = None,
    device: str | None = "mobile",
    channel: str | None = "email",
    bot: bool = False,
) -> tuple[object, ...]:
    """One fct_events-like row in events_frame's column order."""
    return (user, session, ts, event_type, product, category, price, revenue, device, channel, bot)


def events_frame(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    """(user, session, ts, type, product, category, price, revenue, device, channel, is_bot) rows."""
    columns = [*EVENT_COLUMNS, "is_bot"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["event_ts"] = pd.to_datetime(frame["event_ts"])
    frame.insert(0, "event_id", [f"e{i}" for i in range(len(frame))])
    return frame


def spark_events(
    spark: SparkSession, frame: pd.DataFrame, built_at: str = "2026-03-10 13:00:00"
) -> DataFrame:
    """fct_events-like rows, every one with the watermark (`_ingested_at`) `built_at`."""
    events = spark.createDataFrame(frame.astype(object).where(frame.notna(), None), EVENT_DDL)
    return events.withColumn("_ingested_at", sf.to_timestamp(sf.lit(built_at)))


USER_ROWS = [
    # u1: two sessions, buys p1 once; mobile twice, desktop once
    ("u1", "s1", "2026-03-09 10:00:00", "product_view", "p1", "c1", 10.0, None, "mobile", "email", False),
    ("u1", "s1", "2026-03-09 10:05:00", "add_to_cart", "p1", "c1", 10.0, None, "mobile", "email", False),
    ("u1", "s1", "2026-03-09 10:10:00", "purchase", "p1", "c1", 10.0, 20.0, "mobile", "email", False),
    ("u1", "s2", "2026-03-03 12:00:00", "product_view", "p2", "c2", 40.0, None, "desktop", "direct", False),
    # u2: one session, views only, nulls in device, category and price
    ("u2", "s3", "2026-03-10 11:00:00", "page_view", None, None, None, None, None, "social", False),
    ("u2", "s3", "2026-03-10 11:30:00", "product_view", "p3", None, None, None, "tablet", "social", False),
    # a bot: excluded from the Spark features
    ("bot", "s4", "2026-03-10 12:00:00", "product_view", "p1", "c1", 10.0, None, "desktop", "direct", True),
]


ITEM_ROWS = [
    event("u1", "s1", "2026-03-10 10:00:00", "product_view", "p1", "c1", 10.0),
    event("u1", "s1", "2026-03-10 10:01:00", "product_view", "p2", "c1", 5.0),
    event("u1", "s1", "2026-03-10 10:02:00", "add_to_cart", "p1", "c1", 10.0),
    event("u1", "s1", "2026-03-10 10:03:00", "purchase", "p1", "c1", 10.0, revenue=10.0),
    event("u2", "s2", "2026-03-09 09:00:00", "product_view", "p1", "c1", 10.0),
    event("u2", "s2", "2026-03-09 09:01:00", "product_view", "p3", "c2", 7.0),
    event("bot", "s3", "2026-03-10 09:00:00", "product_view", "p2", "c1", 5.0, bot=True),
]


class TestStandardize:
    def test_z_scores_by_hand_with_nulls(self) -> None:
        values = pa.array([1, 2, 3, None], pa.int64())
        std = math.sqrt(2 / 3)
        result = standardize_array(values, ColumnStats(mean=2.0, std=std)).to_pylist()
        assert result[:3] == pytest.approx([-1 / std, 0.0, 1 / std])
        assert result[3] is None

    def test_constant_column_maps_to_zero_and_keeps_nulls(self) -> None:
        result = standardize_array(pa.array([5.0, None, 5.0]), ColumnStats(mean=5.0, std=0.0))
        assert result.to_pylist() == [0.0, None, 0.0]

    def test_all_null_column_stays_null(self) -> None:
        result = standardize_array(pa.array([None, None], pa.float64()), ColumnStats(mean=None, std=None))
        assert result.to_pylist() == [None, None]

    def test_batch_appends_z_columns_and_keeps_the_rest(self) -> None:
        batch = pa.RecordBatch.from_pydict({"id": ["a", "b"], "x": [0.0, 4.0]})
        result = standardize_batch(batch, {"x": ColumnStats(mean=2.0, std=2.0)})
        assert result.schema.names == ["id", "x", "x_z"]
        assert result.column("x_z").to_pylist() == [-1.0, 1.0]

    @pytest.mark.spark
    def test_spark_matches_native_expression(self, spark: SparkSession) -> None:
        frame = spark.createDataFrame(
            [(i, float(i * i) if i % 4 else None) for i in range(40)], "id int, x double"
        ).repartition(3)
        result = standardize_columns(frame, ["x"])
        native = frame.crossJoin(frame.agg(sf.avg("x").alias("m"), sf.stddev_pop("x").alias("s"))).select(
            "id", ((sf.col("x") - sf.col("m")) / sf.col("s")).alias("expected")
        )
        compared = result.join(native, "id").toPandas()
        assert len(compared) == 40
        assert compared["x_z"].isna().equals(compared["expected"].isna())
        np.testing.assert_allclose(compared["x_z"].dropna(), compared["expected"].dropna(), rtol=1e-12)


class TestCategoryAffinity:
    def test_decay_and_weights_by_hand(self) -> None:
        events = events_frame(USER_ROWS)
        affinity = decayed_category_affinity(events, AS_OF, half_life_days=7.0)
        u1 = affinity.loc[affinity["user_id"] == "u1"].set_index("category_id")["affinity"]
        # c1: view 1 + cart 3 + purchase 5, each ~26h old; c2: one view 7 days + 0h old (one half-life)
        c1 = sum(w * 0.5 ** (age / 7.0) for w, age in [(1, 26 / 24), (3, (26 - 5 / 60) / 24)])
        c1 += 5 * 0.5 ** ((26 - 10 / 60) / 24 / 7.0)
        c2 = 0.5 ** (7.0 / 7.0)
        assert u1["c1"] == pytest.approx(c1 / (c1 + c2))
        assert u1["c2"] == pytest.approx(c2 / (c1 + c2))
        assert list(u1.index) == ["c1", "c2"]  # strongest first

    def test_events_without_category_or_weight_are_ignored(self) -> None:
        affinity = decayed_category_affinity(events_frame(USER_ROWS), AS_OF, half_life_days=7.0)
        assert "u2" not in set(affinity["user_id"])  # u2's only product view has a null category

    def test_rejects_non_positive_half_life(self) -> None:
        with pytest.raises(ValueError, match="half_life_days"):
            decayed_category_affinity(events_frame(USER_ROWS), AS_OF, half_life_days=0)

    def test_timezone_aware_input_is_read_as_utc(self) -> None:
        aware = pd.Series(pd.to_datetime(["2026-03-10 13:00:00+01:00"]))
        assert to_utc_naive(aware).iloc[0] == pd.Timestamp("2026-03-10 12:00:00")
        assert age_in_days(aware, AS_OF).iloc[0] == 0.0

    @pytest.mark.spark
    def test_spark_and_pandas_ages_agree_to_the_last_bit(self, spark: SparkSession) -> None:
        # the first pair is from the 1M bench, where seconds / 86,400 and microseconds / 86.4e9
        # differ in the last bit, on a rounding boundary of the comparison (13.0649925 days)
        as_of = pd.Timestamp("2026-04-02 00:16:09.649")
        stamps = ["2026-03-19 22:42:34.297", "2026-03-20 17:43:21.009", "2026-04-03 00:00:00.000", None]
        frame = spark.createDataFrame(
            [(None if s is None else pd.Timestamp(s).to_pydatetime(),) for s in stamps], "ts timestamp"
        )
        in_spark = [row[0] for row in frame.select(age_in_days_column("ts", as_of)).collect()]
        in_pandas = age_in_days(pd.Series(pd.to_datetime(stamps)), as_of)
        assert in_spark[:3] == list(in_pandas[:3])  # exactly, not approximately
        assert in_spark[2] == 0.0  # a clock running ahead of as_of
        # no timestamp, no age (not 0)
        assert in_spark[3] is None
        assert pd.isna(in_pandas[3])


class TestUserFeatures:
    def test_summary_by_hand(self) -> None:
        features = summarize_users(events_frame(USER_ROWS[:-1]), AS_OF, 7.0).set_index("user_id")
        u1, u2 = features.loc["u1"], features.loc["u2"]
        assert u1["days_since_last_event"] == pytest.approx((26 - 10 / 60) / 24)
        assert u1["days_since_last_purchase"] == pytest.approx((26 - 10 / 60) / 24)
        assert (u1["purchase_sessions"], u1["monetary_usd"], u1["events"], u1["sessions"]) == (1, 20.0, 4, 2)
        assert u1["events_per_session"] == 2.0
        assert u1["avg_session_seconds"] == pytest.approx((600 + 0) / 2)
        assert (u1["share_mobile"], u1["share_desktop"], u1["share_tablet"]) == (0.75, 0.25, 0.0)
        assert u1["primary_channel"] == "direct"  # one session each: alphabetical tie-break
        assert u1["channels_used"] == 2
        assert u1["avg_viewed_price_usd"] == 25.0
        assert u1["purchase_to_view_price_ratio"] == pytest.approx(10.0 / 25.0)
        assert (u1["top_category_id"], u1["categories_engaged"]) == ("c1", 2)
        # u2: no purchase, null price and category, one of two events without a device
        assert math.isnan(u2["days_since_last_purchase"])
        assert (u2["purchase_sessions"], u2["monetary_usd"]) == (0, 0.0)
        assert u2["share_tablet"] == 1.0
        assert math.isnan(u2["avg_viewed_price_usd"])
        assert math.isnan(u2["purchase_to_view_price_ratio"])
        assert u2["top_category_id"] is None or pd.isna(u2["top_category_id"])
        assert u2["categories_engaged"] == 0

    def test_no_events_gives_no_rows(self) -> None:
        assert summarize_users(events_frame([]), AS_OF, 7.0).empty

    def test_row_order_does_not_matter(self) -> None:
        """Spark hands a grouped map its rows in shuffle order: a session that switches channel
        must still take its earliest event's channel, in any order."""
        rows = events_frame(USER_ROWS[:-1])
        s1 = rows.loc[rows["session_id"].eq("s1")].sort_values("event_ts").index
        rows.loc[s1, "channel"] = ["search", "email", "email"]
        rows.loc[rows["session_id"].eq("s2"), "channel"] = "social"
        expected = summarize_users(rows, AS_OF, 7.0)
        # s1 came from search, s2 from social: one session each, alphabetical tie-break
        assert expected.set_index("user_id").at["u1", "primary_channel"] == "search"
        for seed in range(5):
            shuffled = rows.sample(frac=1.0, random_state=seed)
            pd.testing.assert_frame_equal(summarize_users(shuffled, AS_OF, 7.0), expected)

    @pytest.mark.spark
    def test_spark_edge_matches_pandas_and_drops_bots(self, spark: SparkSession) -> None:
        events = spark_events(spark, events_frame(USER_ROWS))
        result = user_features(events, half_life_days=7.0, buckets=2).toPandas().set_index("user_id")
        assert sorted(result.index) == ["u1", "u2"]
        expected = summarize_users(events_frame(USER_ROWS[:-1]), AS_OF, 7.0).set_index("user_id")
        for column in (
            "days_since_last_event",
            "monetary_usd",
            "avg_session_seconds",
            "top_category_affinity",
        ):
            np.testing.assert_allclose(result[column], expected.loc[result.index, column], rtol=1e-9)
        assert result.loc["u1", "last_event_at"] == pd.Timestamp("2026-03-09 10:10:00")
        # two users: z-scores are -1 and +1 for any column that differs
        assert sorted(result["sessions_z"]) == [-1.0, 1.0]

    @pytest.mark.spark
    def test_incremental_run_equals_a_full_recomputation(self, spark: SparkSession) -> None:
        rebuilt = "2026-03-11 13:00:00"
        u4 = [event("u4", "s9", "2026-03-08 08:00:00", "product_view", "p1", "c1", 10.0)]
        # u5 never buys and is carried over: its purchase recency stays null
        u5 = [event("u5", "s12", "2026-03-07 07:00:00", "product_view", "p2", "c2", 40.0)]
        day1 = spark_events(spark, events_frame([*USER_ROWS, *u4, *u5]))
        previous = user_features(day1, 7.0, buckets=2)
        # u1 untouched; u2 comes back and buys; u3 is new; a rebuild flags u4 as a bot
        new_rows = [
            event("u2", "s10", "2026-03-11 09:00:00", "purchase", "p3", "c3", 30.0, revenue=30.0),
            event("u3", "s11", "2026-03-11 10:00:00", "product_view", "p2", "c2", 40.0, device="desktop"),
            *[(*row[:-1], True) for row in u4],
        ]
        day2 = spark_events(spark, events_frame(new_rows), built_at=rebuilt)
        events = day1.where("user_id <> 'u4'").unionByName(day2)
        incremental = user_features(events, 7.0, previous=previous.localCheckpoint(), buckets=2)
        full = user_features(events, 7.0, buckets=2)
        got, expected = (frame.toPandas().set_index("user_id").sort_index() for frame in (incremental, full))
        assert list(got.index) == ["u1", "u2", "u3", "u5"]  # u4 is a bot now
        assert pd.isna(got.loc["u5", "days_since_last_purchase"])
        data_columns = [column for column in expected.columns if not column.startswith("_")]
        pd.testing.assert_frame_equal(got[data_columns], expected[data_columns], check_exact=False, rtol=1e-9)
        assert got["_ingested_at"].unique().tolist() == [pd.Timestamp(rebuilt)]

        # u1 is carried over, not summarized again: only its recency moves to the new newest event
        tampered = previous.withColumn(
            "events", sf.when(sf.col("user_id") == "u1", sf.lit(999)).otherwise(sf.col("events"))
        )
        carried = user_features(events, 7.0, previous=tampered.localCheckpoint(), buckets=2)
        u1 = carried.where("user_id = 'u1'").first()
        assert u1 is not None
        assert u1["events"] == 999
        assert u1["days_since_last_event"] == pytest.approx(expected.loc["u1", "days_since_last_event"])


class TestItemFeatures:
    DAILY = pd.DataFrame(
        {
            "product_id": ["p1", "p1", "p1", "p2", None],
            "event_date": pd.to_datetime(
                ["2026-03-01", "2026-03-08", "2026-03-10", "2026-03-10", "2026-03-10"]
            ),
            "views": [2, 4, 6, 0, 9],
            "carts": [1, 1, 2, 1, 0],
            "purchases": [0, 1, 1, None, 0],
            "revenue_usd": [None, 10.0, 12.0, None, 0.0],
        }
    )

    def test_summary_by_hand(self) -> None:
        items = summarize_items(self.DAILY, AS_OF, window_days=7).set_index("product_id")
        assert list(items.index) == ["p1", "p2"]  # the null product is dropped
        p1, p2 = items.loc["p1"], items.loc["p2"]
        assert (p1["views"], p1["carts"], p1["purchases"], p1["revenue_usd"]) == (12, 4, 2, 22.0)
        assert p1["view_to_cart_rate"] == pytest.approx(4 / 12)
        assert p1["cart_to_purchase_rate"] == pytest.approx(2 / 4)
        assert (p1["views_recent_window"], p1["views_prior_window"]) == (10, 2)
        assert p1["popularity_trend"] == pytest.approx(11 / 3)
        days = np.arange(-9, 1)
        views = np.zeros(10)
        views[[0, 7, 9]] = [2, 4, 6]
        assert p1["daily_view_slope"] == pytest.approx(np.polyfit(days, views, 1)[0])
        assert math.isnan(p2["view_to_cart_rate"])  # no views: conversion undefined, not zero
        assert (p2["purchases"], p2["daily_view_slope"], p2["popularity_trend"]) == (0, 0.0, 1.0)

    def test_closed_form_slopes_equal_a_least_squares_fit_per_product(self) -> None:
        rng = np.random.default_rng(7)
        daily = pd.DataFrame(
            {
                "product_id": rng.choice([f"p{i}" for i in range(40)], size=400),
                "day": rng.integers(-60, 1, size=400),  # repeated days add up, as in the fit below
                "views": rng.integers(0, 50, size=400),
            }
        )
        slopes = daily_view_slopes(daily)
        for product, activity in daily.groupby("product_id"):
            days = np.arange(activity["day"].min(), activity["day"].max() + 1)
            views = activity.groupby("day")["views"].sum().reindex(days, fill_value=0)
            expected = np.polyfit(days, views, 1)[0] if len(days) > 1 else 0.0
            assert slopes[product] == pytest.approx(expected, rel=1e-9, abs=1e-12)

    @pytest.mark.spark
    def test_spark_edge_by_hand(self, spark: SparkSession) -> None:
        events = spark_events(spark, events_frame(ITEM_ROWS))
        products = spark.createDataFrame([("p1",), ("p2",), ("p3",), ("p4",)], "product_id string")
        similarity = item_similarity(events, top_k=1, max_items_per_session=10)
        result = item_features(events, products, similarity, window_days=1, buckets=2)
        items = result.toPandas().set_index("product_id")
        assert (items.loc["p1", "views"], items.loc["p1", "carts"], items.loc["p1", "purchases"]) == (2, 1, 1)
        assert items.loc["p1", "view_to_purchase_rate"] == 0.5
        assert (items.loc["p1", "views_recent_window"], items.loc["p1", "views_prior_window"]) == (1, 1)
        assert items.loc["p2", "views"] == 1  # the bot's view does not count
        # with p2 in s1 and p3 in s2: both count, though similarity keeps only the top neighbour
        assert items.loc["p1", "co_view_degree"] == 2
        assert items.loc["p4", "views"] == 0
        assert items.loc["p4", "co_view_degree"] == 0
        assert items.loc["p4", "popularity_trend"] == 1.0
        assert "views_z" in items.columns
