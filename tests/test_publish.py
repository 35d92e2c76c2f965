"""Publishing per data product, end to end on the built warehouse: a recommender that fails its
check withholds the recommendations and says why; every other product is published; the run
exits 1. On Delta the withheld view keeps serving the previously published version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from lakehouse.checks import CRITICAL, FAIL, SOURCE_RECO, CheckResult
from lakehouse.recommend.run_step import RecoQuality
from lakehouse.run import pipeline
from lakehouse.run.context import RunContext
from lakehouse.run.steps import publish_step, validate_step
from tests.conftest import BuiltProject

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.mutates_warehouse]
RECOMMENDATIONS = "features.user_recommendations"


def recommender_loses(ctx: RunContext) -> None:
    """The recommendation-quality step, as when the recommender does not beat its baseline."""
    problem = "reco_evaluation: the recommender's hit rate (0.01) does not beat popularity (0.02)"
    failure = CheckResult(SOURCE_RECO, RECOMMENDATIONS, "beats the baseline", CRITICAL, FAIL, detail=problem)
    ctx.reco = RecoQuality({"reco_hit_rate_at_10": 0.01}, [failure])


def pinned_version(spark: SparkSession, view: str) -> str:
    rows = spark.sql(f"describe table extended {view}").collect()
    return {row.col_name: row.data_type for row in rows}["View Text"].rsplit("version as of", 1)[-1].strip()


def test_a_failing_recommender_withholds_only_the_recommendations(
    built_project: BuiltProject, spark: SparkSession, pipeline_target: str
) -> None:
    assert built_project.exit_code == 0
    on_delta = built_project.summary["table_format"] == "delta"
    if on_delta:  # the recommendations move on (same rows, a new version) after the last publish
        published = pinned_version(spark, "serving.user_recommendations")
        spark.table(RECOMMENDATIONS).localCheckpoint().write.format("delta").mode("overwrite").saveAsTable(
            RECOMMENDATIONS
        )
    Path(pipeline_target).mkdir(parents=True, exist_ok=True)
    (Path(pipeline_target) / "manifest.json").write_text((built_project.target / "manifest.json").read_text())

    steps = [
        ("recommendation quality", recommender_loses),
        ("validate", validate_step),
        ("publish", publish_step),
    ]
    exit_code = pipeline.run(target="ci", steps=steps)

    summary: dict[str, Any] = json.loads((Path(pipeline_target) / "run_summary.json").read_text())
    assert exit_code == 1
    assert summary["published"] is False
    assert list(summary["withheld_views"]) == ["serving.user_recommendations"]
    assert "does not beat popularity" in summary["withheld_views"]["serving.user_recommendations"]
    assert set(summary["published_views"]) == set(built_project.summary["published_views"]) - {
        "serving.user_recommendations"
    }
    assert any("does not beat popularity" in check for check in summary["failed_checks"])
    if on_delta:  # the withheld view still serves the version the build published
        assert pinned_version(spark, "serving.user_recommendations") == published
        assert int(published) < int(
            spark.sql(f"describe history {RECOMMENDATIONS} limit 1").first()["version"]
        )
        assert pinned_version(spark, "serving.fct_events") == str(
            summary["published_versions"]["marts.fct_events"]
        )
    else:  # Parquet cannot serve an earlier version: the view is gone rather than unchecked
        assert not spark.catalog.tableExists("serving.user_recommendations")
