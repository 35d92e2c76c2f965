"""Small event logs with known behaviour for the recommender's tests, as fct_events-like frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

RECO_EVENT_DDL = (
    "event_id string, user_id string, anonymous_id string, session_id string, event_ts timestamp, "
    "event_type string, product_id string, category_id string, is_bot boolean"
)
COLUMNS = [field.split()[0] for field in RECO_EVENT_DDL.split(", ")]


def row(
    user: str | None,
    session: str,
    ts: str,
    event_type: str,
    product: str | None = None,
    category: str | None = None,
    *,
    anonymous: str | None = None,
    bot: bool = False,
) -> dict[str, object]:
    """One event; the cookie defaults to the user's own (`a_<user>`)."""
    cookie = anonymous or f"a_{user}"
    return {
        "user_id": user,
        "anonymous_id": cookie,
        "session_id": session,
        "event_ts": ts,
        "event_type": event_type,
        "product_id": product,
        "category_id": category,
        "is_bot": bot,
    }


def frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    events = pd.DataFrame(rows)
    events.insert(0, "event_id", [f"e{i}" for i in range(len(events))])
    events["event_ts"] = pd.to_datetime(events["event_ts"])
    return events[COLUMNS]


def spark_frame(
    spark: SparkSession, events: pd.DataFrame, built_at: str = "2026-03-20 00:00:00"
) -> DataFrame:
    """fct_events-like rows, every one carrying the watermark `_ingested_at` = `built_at`."""
    values = events[COLUMNS].astype(object).where(events[COLUMNS].notna(), None)
    created = spark.createDataFrame(values, RECO_EVENT_DDL)
    return created.withColumn("_ingested_at", sf.to_timestamp(sf.lit(built_at)))


def taste_world(users: int = 60, days: int = 10, groups: int = 6, seed: int = 7) -> pd.DataFrame:
    """Users in taste groups (a category of 10 products each, whose best-sellers are products 0, 1, 2
    ...) over `days` days from 2026-03-01. Every day each user views two products of its group; on
    about half of the days the user buys: half of those purchases are a product the user viewed on
    an earlier day and has not bought (coming back for it: what the user's own recent interest
    predicts), the others the group's best-seller the user has not bought yet (what the category's
    best-sellers predict). Each purchase is viewed, carted and bought in one session."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    for number in range(users):
        user, group = f"u{number:02d}", number % groups
        category = f"c{group}"
        products = [f"g{group}p{i}" for i in range(10)]
        seen: list[str] = []
        bought: set[str] = set()
        for day in range(days):
            date = f"2026-03-{day + 1:02d}"
            session = f"{user}d{day}"
            for minute, product in enumerate(rng.choice(products[3:], size=2, replace=False)):
                rows.append(
                    row(user, session, f"{date} 08:{minute:02d}:00", "product_view", str(product), category)
                )
                seen.append(str(product))
            if rng.random() < 0.5 or day == 0:
                continue
            earlier = [p for p in dict.fromkeys(reversed(seen[:-2])) if p not in bought]
            best_sellers = [p for p in products if p not in bought]
            target = earlier[0] if earlier and rng.random() < 0.5 else best_sellers[0]
            bought.add(target)
            for minute, kind in enumerate(("product_view", "add_to_cart", "purchase")):
                rows.append(row(user, f"{session}b", f"{date} 20:{minute:02d}:00", kind, target, category))
    return frame(rows)
