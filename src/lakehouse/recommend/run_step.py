"""Recommendation quality from reco_evaluation, after `dbt build` (`evaluate_quality`): the figures of
every model for the run summary, and the gate. Kept apart from the evaluation itself."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from lakehouse import dbt_runner
from lakehouse.checks import CRITICAL, FAIL, SOURCE_RECO, CheckResult
from lakehouse.recommend.evaluation import MIN_USERS_TO_COMPARE, MODEL_RECOMMENDER

EVALUATION_MODEL = "reco_evaluation"
# what a failed quality check withholds: the recommendations, nothing else
RECOMMENDATIONS_MODEL = "user_recommendations"
# summary key prefix per model: the recommender keeps the historical `reco_`
PREFIX = {MODEL_RECOMMENDER: "reco"}


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


def _rounded(value: Any) -> float | None:
    return None if value is None or math.isnan(float(value)) else round(float(value), 4)


def _model_keys(row: dict[str, Any]) -> dict[str, Any]:
    """`<prefix>_<metric>_at_<k>` and its `_ci` [low, high] for one model's row."""
    prefix, k = PREFIX.get(row["model_name"], row["model_name"]), row["k"]
    keys: dict[str, Any] = {f"{prefix}_coverage_at_{k}": _rounded(row["coverage"])}
    for metric in ("hit_rate", "recall", "ndcg"):
        keys[f"{prefix}_{metric}_at_{k}"] = _rounded(row[metric])
        keys[f"{prefix}_{metric}_at_{k}_ci"] = [
            _rounded(row[f"{metric}_low"]),
            _rounded(row[f"{metric}_high"]),
        ]
    return keys


def quality_summary(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """Summary keys of every model and the failed checks, from reco_evaluation's rows.

    The gate compares the recommender with the best baseline by hit rate: it fails only when the
    95% interval of their paired difference lies entirely below zero (the recommender is worse,
    beyond noise), and only once MIN_USERS_TO_COMPARE (user, day) pairs were evaluated.
    """
    by_model = {row["model_name"]: row for row in rows}
    baselines = [row for row in rows if row.get("is_baseline")]
    if MODEL_RECOMMENDER not in by_model or not baselines:
        return {}, [f"{EVALUATION_MODEL}: no row for the recommender or no baseline"]
    reco = by_model[MODEL_RECOMMENDER]
    summary: dict[str, Any] = {
        "reco_users_evaluated": reco["users_evaluated"],
        "reco_user_days": reco["user_days"],
        "reco_eval_days": reco["eval_days"],
        "reco_eval_dates": [str(reco["first_eval_date"]), str(reco["eval_date"])],
        "reco_baselines": sorted(row["model_name"] for row in baselines),
    }
    for row in rows:
        summary.update(_model_keys(row))
    best = max(baselines, key=lambda row: -math.inf if _rounded(row["hit_rate"]) is None else row["hit_rate"])
    k = reco["k"]
    lift = [
        _rounded(best["hit_rate_lift"]),
        _rounded(best["hit_rate_lift_low"]),
        _rounded(best["hit_rate_lift_high"]),
    ]
    summary.update(
        {
            "reco_best_baseline": best["model_name"],
            f"reco_lift_vs_best_baseline_hit_rate_at_{k}": lift[0],
            f"reco_lift_vs_best_baseline_hit_rate_at_{k}_ci": lift[1:],
            "reco_quality_gated": (reco["user_days"] or 0) >= MIN_USERS_TO_COMPARE,
        }
    )
    if not summary["reco_quality_gated"]:
        return summary, []
    if lift[2] is None or lift[2] < 0:
        return summary, [
            f"{EVALUATION_MODEL}: the recommender's hit rate@{k} ({summary[f'reco_hit_rate_at_{k}']}) is "
            f"below the best baseline {best['model_name']} ({_rounded(best['hit_rate'])}): difference "
            f"{lift[0]}, 95% interval [{lift[1]}, {lift[2]}]"
        ]
    return summary, []


def quality_line(summary: dict[str, Any]) -> str:
    """The recommendation figures of a quality_summary in one line, as the run and the bench print
    them (a summary from before the baselines names popularity, the only baseline then)."""
    best = summary.get("reco_best_baseline", "popularity")
    line = (
        f"recommendations: hit-rate@10 {summary['reco_hit_rate_at_10']} vs best baseline {best} "
        f"{summary.get(f'{best}_hit_rate_at_10')}"
    )
    lift = summary.get("reco_lift_vs_best_baseline_hit_rate_at_10")
    if lift is None:
        return line
    low, high = summary.get("reco_lift_vs_best_baseline_hit_rate_at_10_ci", [None, None])
    days = f"{summary.get('reco_user_days')} user-days over {summary.get('reco_eval_days')} days"
    return f"{line} (difference {lift}, 95% CI [{low}, {high}]; {days})"


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
    figures: dict[str, Any]  # run_summary.json keys: <model>_<metric>_at_<k> (+ _ci), lift, user-days
    failures: list[CheckResult] = field(default_factory=list)

    def describe(self) -> list[str]:
        if not self.figures and self.failures:
            return [failure.describe() for failure in self.failures]
        lines = [quality_line(self.figures)] if "reco_hit_rate_at_10" in self.figures else []
        if not self.figures.get("reco_quality_gated", True):
            lines.append(
                f"WARNING recommender vs baselines not gated: {self.figures['reco_user_days']} (user, day) "
                f"pairs evaluated, fewer than {MIN_USERS_TO_COMPARE} (land more data for a meaningful "
                "comparison)"
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
    return CheckResult(SOURCE_RECO, table, "not worse than the best baseline", CRITICAL, FAIL, detail=problem)
