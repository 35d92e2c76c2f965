"""The sessions and daily marts as one hand-written PySpark job, for comparison (d) with dbt.

It reproduces, from `bronze.events` and the seed CSVs, what the dbt chain stg_clickstream__events →
int_visitor_days_classified / int_events_sessionized → fct_events → fct_sessions, fct_daily_funnel,
fct_daily_user_activity produces, the way someone would write it without dbt: one DataFrame
program, the event-level frame computed once and cached, only the final marts written. The
benchmark asserts the written tables equal dbt's row for row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml  # type: ignore[import-untyped]
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as sf

from lakehouse.config import project_dir

DATABASE = "bench_handwritten"
MARTS = ("fct_sessions", "fct_daily_funnel", "fct_daily_user_activity")
# Decimal places doubles are compared at: sums of doubles depend on the order rows are added in.
DOUBLE_DIGITS = 6


@dataclass(frozen=True)
class ModelVars:
    """The dbt project vars the models read."""

    session_gap_minutes: int
    bot_events_per_day: int

    @classmethod
    def from_project(cls, project: Path | None = None) -> ModelVars:
        config = yaml.safe_load(((project or project_dir()) / "dbt_project.yml").read_text())
        variables: dict[str, Any] = config.get("vars", {})
        return cls(int(variables["session_gap_minutes"]), int(variables["bot_events_per_day"]))


def read_seed(spark: SparkSession, name: str) -> DataFrame:
    """A seed CSV as a small Spark DataFrame of strings (the job reads seeds the way dbt does: the files)."""
    frame = pd.read_csv(project_dir() / "seeds" / f"{name}.csv", dtype=str, keep_default_na=False)
    return spark.createDataFrame(frame)


def _blank_to_null(column: str) -> Column:
    return sf.nullif(sf.trim(sf.col(column)), sf.lit(""))


def staged_events(bronze: DataFrame) -> DataFrame:
    """First landed copy of each event_id, codes normalized."""
    first_copy = Window.partitionBy("event_id").orderBy("_ingested_at", "_batch_id", "_source_file")
    ranked = bronze.where(sf.col("event_id").isNotNull() & sf.col("event_ts").isNotNull()).withColumn(
        "copy_rank", sf.row_number().over(first_copy)
    )
    return ranked.where(sf.col("copy_rank") == 1).select(
        "event_id",
        sf.lower(sf.trim("event_type")).alias("event_type"),
        "event_ts",
        sf.to_date("event_ts").alias("event_date"),
        _blank_to_null("user_id").alias("user_id"),
        sf.coalesce(_blank_to_null("user_id"), _blank_to_null("anonymous_id")).alias("visitor_id"),
        sf.lower(sf.trim("device_type")).alias("device_type"),
        "user_agent",
        sf.upper(sf.trim("country_code")).alias("country_code"),
        sf.lower(sf.trim("channel")).alias("channel"),
        "page_url",
        _blank_to_null("product_id").alias("product_id"),
        "quantity",
        "price",
        sf.upper(sf.trim("currency")).alias("currency"),
    )


def bot_visitor_days(events: DataFrame, bot_agents: DataFrame, events_per_day: int) -> DataFrame:
    """(visitor_id, event_date, is_bot): a known bot user agent, or more events a day than a person makes."""
    agents = events.where(sf.col("user_agent").isNotNull()).select("user_agent").distinct()
    bot_agents_matched = (
        agents.join(
            sf.broadcast(bot_agents),
            sf.contains(sf.lower(agents["user_agent"]), sf.lower(bot_agents["user_agent_pattern"])),
        )
        .select(agents["user_agent"].alias("bot_user_agent"))
        .distinct()
    )
    days = (
        events.join(bot_agents_matched, events["user_agent"] == bot_agents_matched["bot_user_agent"], "left")
        .groupBy("visitor_id", "event_date")
        .agg(sf.count("*").alias("event_count"), sf.max(sf.col("bot_user_agent").isNotNull()).alias("ua"))
    )
    return days.select(
        "visitor_id", "event_date", (sf.col("ua") | (sf.col("event_count") > events_per_day)).alias("is_bot")
    )


def sessionized(events: DataFrame, gap_minutes: int) -> DataFrame:
    """Session ids: a new session after more than `gap_minutes` idle; id = md5(visitor | first event).
    Like the dbt model, every session figure is a running aggregate in the visitor's event order,
    so the events are sorted once."""
    by_visitor = Window.partitionBy("visitor_id").orderBy("event_ts", "event_id")
    so_far = by_visitor.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    gap_micros = gap_minutes * 60 * 1_000_000
    previous = sf.lag("event_ts").over(by_visitor)
    starts = sf.when(previous.isNull(), 1).when(
        sf.unix_micros(sf.col("event_ts")) - sf.unix_micros(previous) > gap_micros, 1
    )
    started = events.withColumn("is_start", starts.otherwise(0))

    def at_start(column: str) -> Column:
        return sf.when(sf.col("is_start") == 1, sf.col(column))

    return started.withColumns(
        {
            "session_first_event_id": sf.last(at_start("event_id"), ignorenulls=True).over(so_far),
            "session_start_ts": sf.max(at_start("event_ts")).over(so_far),
        }
    ).withColumn("session_id", sf.md5(sf.concat_ws("|", "visitor_id", "session_first_event_id")))


def fact_events(spark: SparkSession, bronze: DataFrame, model_vars: ModelVars) -> DataFrame:
    """Event grain with session_id, is_bot (by the session's start day) and revenue in USD."""
    events = staged_events(bronze)
    bot_days = bot_visitor_days(events, read_seed(spark, "bot_user_agents"), model_vars.bot_events_per_day)
    rates = read_seed(spark, "currency_rates").select(
        "currency", sf.col("rate_to_usd").cast("double").alias("rate_to_usd")
    )
    sessions = sessionized(events, model_vars.session_gap_minutes)
    joined = sessions.join(
        bot_days.withColumnRenamed("event_date", "session_date"),
        (sessions["visitor_id"] == bot_days["visitor_id"])
        & (sf.to_date(sessions["session_start_ts"]) == sf.col("session_date")),
        "left",
    ).join(sf.broadcast(rates), "currency", "left")
    price_usd = sf.col("price") * sf.col("rate_to_usd")
    revenue = sf.when(
        sf.col("event_type") == "purchase",
        sf.coalesce(sf.col("quantity"), sf.lit(1)) * sf.coalesce(price_usd, sf.lit(0.0)),
    ).otherwise(0.0)
    return joined.select(
        "event_id",
        "event_ts",
        sf.col("event_date"),
        sf.col("user_id"),
        sessions["visitor_id"],
        "session_id",
        "event_type",
        "product_id",
        "device_type",
        "channel",
        "country_code",
        "page_url",
        revenue.alias("revenue_usd"),
        sf.coalesce(bot_days["is_bot"], sf.lit(False)).alias("is_bot"),
    )


def fct_sessions(events: DataFrame) -> DataFrame:
    """One row per human session."""
    order = sf.struct("event_ts", "event_id")

    def count_if(condition: Column) -> Column:
        return sf.count_if(condition)

    sessions = (
        events.where(~sf.col("is_bot"))
        .groupBy("session_id")
        .agg(
            sf.max("user_id").alias("user_id"),
            sf.max("visitor_id").alias("visitor_id"),
            sf.min("event_ts").alias("session_start"),
            sf.max("event_ts").alias("session_end"),
            sf.count("*").alias("event_count"),
            count_if(sf.col("event_type") == "page_view").alias("page_views"),
            sf.count_distinct(sf.when(sf.col("event_type") == "product_view", sf.col("product_id"))).alias(
                "products_viewed"
            ),
            count_if(sf.col("event_type") == "add_to_cart").alias("cart_adds"),
            (count_if(sf.col("event_type") == "begin_checkout") > 0).alias("has_checkout"),
            (count_if(sf.col("event_type") == "purchase") > 0).alias("has_purchase"),
            sf.sum("revenue_usd").alias("revenue_usd"),
            sf.min_by("page_url", order).alias("landing_page"),
            sf.max_by("page_url", order).alias("exit_page"),
            sf.min_by("device_type", order).alias("device_type"),
            sf.min_by("channel", order).alias("channel"),
            sf.min_by("country_code", order).alias("country_code"),
            sf.bool_or("is_bot").alias("is_bot"),
        )
    )
    return sessions.select(
        "session_id",
        "user_id",
        "visitor_id",
        "session_start",
        "session_end",
        sf.to_date("session_start").alias("session_date"),
        (sf.unix_timestamp("session_end") - sf.unix_timestamp("session_start")).alias("duration_seconds"),
        "event_count",
        "page_views",
        "products_viewed",
        "cart_adds",
        "has_checkout",
        "has_purchase",
        "revenue_usd",
        "landing_page",
        "exit_page",
        "device_type",
        "channel",
        "country_code",
        "is_bot",
    )


def fct_daily_funnel(sessions: DataFrame) -> DataFrame:
    """One row per session date, channel and device: sessions reaching each funnel step."""
    funnel = sessions.groupBy(
        "session_date",
        sf.coalesce("channel", sf.lit("unknown")).alias("channel"),
        sf.coalesce("device_type", sf.lit("unknown")).alias("device_type"),
    ).agg(
        sf.count("*").alias("sessions"),
        sf.count_if(sf.col("products_viewed") > 0).alias("sessions_with_product_view"),
        sf.count_if(sf.col("cart_adds") > 0).alias("sessions_with_cart_add"),
        sf.count_if("has_checkout").alias("sessions_with_checkout"),
        sf.count_if("has_purchase").alias("sessions_with_purchase"),
        sf.sum("revenue_usd").alias("revenue_usd"),
    )
    return funnel.withColumn(
        "conversion_rate", sf.col("sessions_with_purchase").cast("double") / sf.col("sessions")
    )


def fct_daily_user_activity(events: DataFrame) -> DataFrame:
    """One row per logged-in user and day of human traffic."""

    def count_type(event_type: str) -> Column:
        return sf.count_if(sf.col("event_type") == event_type)

    return (
        events.where(~sf.col("is_bot") & sf.col("user_id").isNotNull())
        .groupBy(sf.col("event_date").alias("activity_date"), "user_id")
        .agg(
            sf.count_distinct("session_id").alias("sessions"),
            sf.count("*").alias("events"),
            count_type("page_view").alias("page_views"),
            count_type("product_view").alias("product_views"),
            count_type("search").alias("searches"),
            count_type("add_to_cart").alias("cart_adds"),
            count_type("purchase").alias("purchases"),
            sf.sum("revenue_usd").alias("revenue_usd"),
            sf.min("event_ts").alias("first_event_at"),
            sf.max("event_ts").alias("last_event_at"),
        )
    )


def build_marts(spark: SparkSession, source_table: str = "bronze.events") -> dict[str, str]:
    """Run the job: read bronze, compute, write the marts as Parquet tables; returns mart → table."""
    events = fact_events(spark, spark.table(source_table), ModelVars.from_project()).persist()
    sessions = fct_sessions(events).persist()
    spark.sql(f"create database if not exists {DATABASE}")
    frames = {
        "fct_sessions": sessions,
        "fct_daily_funnel": fct_daily_funnel(sessions),
        "fct_daily_user_activity": fct_daily_user_activity(events),
    }
    tables = {}
    for name, frame in frames.items():
        tables[name] = f"{DATABASE}.{name}"
        frame.write.mode("overwrite").format("parquet").saveAsTable(tables[name])
    sessions.unpersist()
    events.unpersist()
    return tables


def comparable(frame: DataFrame, columns: list[str]) -> DataFrame:
    """The columns in one order, doubles rounded (summation order changes their last digits)."""
    types = dict(frame.dtypes)
    return frame.select(
        *(
            sf.round(column, DOUBLE_DIGITS).alias(column) if types[column] in {"double", "float"} else column
            for column in columns
        )
    )


def differing_rows(expected: DataFrame, actual: DataFrame) -> int:
    """Rows in one table but not the other (as multisets), over `expected`'s data columns (load
    metadata such as the `_ingested_at` watermark, which the hand-written jobs need not carry, is
    not compared)."""
    columns = [column for column in expected.columns if not column.startswith("_")]
    missing = set(columns) - set(actual.columns)
    if missing:
        raise ValueError(f"hand-written output lacks columns {sorted(missing)}")
    left, right = comparable(expected, columns), comparable(actual, columns)
    return left.exceptAll(right).count() + right.exceptAll(left).count()
