"""Recommendation quality from reco_evaluation, after `dbt build` (`evaluate_quality`)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from lakehouse import dbt_runner
from lakehouse.checks import CRITICAL, FAIL, SOURCE_RECO, CheckResult
from lakehouse.recommend.evaluation import MIN_USERS_TO_COMPARE, MODEL_POPULARITY, MODEL_RECOMMENDER

EVALUATION_MODEL = "reco_evaluation"
# what a failed quality check withholds: the recommendations, nothing else
RECOMMENDATIONS_MODEL = "user_recommendations"


def built_relation(model_name: str) -> str | None:
    """`schema.alias` of a model from dbt's manifest, or None when dbt has not compiled it."""
    manifest = dbt_runner.target_path() / "manifest.json"
    if not manifest.exists():
        return None
    nodes: dict[str, Any] = json.loads(manifest.read_text())["nodes"]
    for node in nodes.values():
        if node["resource_type"] == "model" and node["name"] == model_name:
            return f"{node['schema']}.{node['alias']}"
    return None


def quality_summary(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """Summary keys (reco_/popularity_ hit rate and recall at k) and failed checks from evaluation rows."""
    by_model = {row["model_name"]: row for row in rows}
    missing = {MODEL_RECOMMENDER, MODEL_POPULARITY} - set(by_model)
    if missing:
        return {}, [f"{EVALUATION_MODEL}: no row for {', '.join(sorted(missing))}"]
    summary: dict[str, Any] = {"reco_users_evaluated": by_model[MODEL_RECOMMENDER]["users_evaluated"]}
    for prefix, model in (("reco", MODEL_RECOMMENDER), ("popularity", MODEL_POPULARITY)):
        row = by_model[model]
        summary[f"{prefix}_hit_rate_at_{row['k']}"] = _rounded(row["hit_rate"])
        summary[f"{prefix}_recall_at_{row['k']}"] = _rounded(row["recall"])
    reco, popular = by_model[MODEL_RECOMMENDER]["hit_rate"], by_model[MODEL_POPULARITY]["hit_rate"]
    users = by_model[MODEL_RECOMMENDER]["users_evaluated"] or 0
    summary["reco_quality_gated"] = users >= MIN_USERS_TO_COMPARE
    if not summary["reco_quality_gated"]:
        return summary, []
    if reco is None or popular is None or math.isnan(reco) or not reco > popular:
        return summary, [
            f"{EVALUATION_MODEL}: the recommender's hit rate ({reco}) does not beat popularity ({popular})"
        ]
    return summary, []


def quality_line(summary: dict[str, Any]) -> str:
    """The recommendation figures of a quality_summary in one line, as the run and the bench print them."""
    return (
        f"recommendations: hit-rate@10 {summary['reco_hit_rate_at_10']} "
        f"vs popularity {summary.get('popularity_hit_rate_at_10')}"
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


def evaluation_rows() -> list[dict[str, Any]] | None:
    """The rows of reco_evaluation as built by dbt, or None when it was not built."""
    from lakehouse.spark import get_spark

    relation = built_relation(EVALUATION_MODEL)
    spark = get_spark()
    if relation is None or not spark.catalog.tableExists(relation):
        return None
    return [row.asDict() for row in spark.table(relation).collect()]


@dataclass
class RecoQuality:
    figures: dict[str, Any]  # run_summary.json keys: reco_/popularity_ hit rate and recall, users
    failures: list[CheckResult] = field(default_factory=list)

    def describe(self) -> list[str]:
        if not self.figures and self.failures:
            return [failure.describe() for failure in self.failures]
        lines = [f"recommendations: {', '.join(f'{k}={v}' for k, v in sorted(self.figures.items()))}"]
        if not self.figures.get("reco_quality_gated", True):
            lines.append(
                f"WARNING recommender vs popularity not gated: {self.figures['reco_users_evaluated']} users "
                f"evaluated, fewer than {MIN_USERS_TO_COMPARE} (land more data for a meaningful comparison)"
            )
        return lines


def evaluate_quality() -> RecoQuality:
    """Read reco_evaluation as dbt built it; a failure is a check on the recommendations table."""
    recommendations = built_relation(RECOMMENDATIONS_MODEL) or RECOMMENDATIONS_MODEL
    rows = evaluation_rows()
    if rows is None:
        problems = [f"{EVALUATION_MODEL}: not built, so recommendation quality is unknown"]
        return RecoQuality({}, [_failure(recommendations, problem) for problem in problems])
    figures, problems = quality_summary(rows)
    return RecoQuality(figures, [_failure(recommendations, problem) for problem in problems])


def _failure(table: str, problem: str) -> CheckResult:
    return CheckResult(SOURCE_RECO, table, "beats the baseline", CRITICAL, FAIL, detail=problem)
