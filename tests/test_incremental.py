"""Incremental runs equal full refreshes: a new delivery lands on the built warehouse, `dbt run`
builds it incrementally, and every incremental model's table must equal what `dbt run
--full-refresh` builds from the same data (multisets of rows, doubles to 6 places).

`make bench` checks the same at 1M and 10M events; this checks it on every `make test`, on the
small sample. Ordered after the tests that read the warehouse.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from pyspark.sql import SparkSession

from lakehouse import dbt_runner
from lakehouse.config import Settings
from lakehouse.ingest import ingest
from lakehouse_dev.bench.runner import copy_tables, differing_rows, incremental_relations, manifest_models
from lakehouse_dev.generate import generate
from tests.conftest import BuiltProject

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.mutates_warehouse]
COPIES = "test_incremental_copies"


def test_every_incremental_model_equals_its_full_refresh_after_a_new_day(
    built_project: BuiltProject, spark: SparkSession, pipeline_target: str
) -> None:
    assert built_project.exit_code == 0
    settings = Settings.from_env()
    last_day = spark.sql("select max(event_date) from staging.stg_clickstream__events").first()[0]
    # the next day's delivery (another seed: new events, and new versions of the same users and
    # products, some late), landed beside what the build ingested
    generate(
        scale_events=3_000,
        days=1,
        seed=77,
        out_dir=settings.landing_dir,
        start_date=last_day + timedelta(days=1),
    )
    assert ingest(spark, settings).reconciled

    incremental = dbt_runner.invoke(["run"], "ci")
    assert incremental.success, incremental.failures
    relations = incremental_relations(manifest_models())
    assert {"stg_clickstream__events", "int_events_sessionized", "fct_events", "fct_sessions"} <= set(
        relations
    )
    copy_tables(spark, relations, COPIES)
    full = dbt_runner.invoke(["run", "--full-refresh"], "ci")
    assert full.success, full.failures

    assert differing_rows(spark, relations, COPIES) == dict.fromkeys(relations, 0)
    assert spark.table("marts.fct_events").where(f"event_date > date'{last_day}'").count() > 0
