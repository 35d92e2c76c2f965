"""The `lakehouse run` step after `dbt build`: recommendation quality from reco_evaluation."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from lakehouse import dbt_runner
from lakehouse.recommend.evaluation import MIN_USERS_TO_COMPARE, MODEL_POPULARITY, MODEL_RECOMMENDER

if TYPE_CHECKING:
    from lakehouse.pipeline import RunContext

EVALUATION_MODEL = "reco_evaluation"


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


def reco_quality_step(ctx: RunContext) -> None:
    """Read reco_evaluation (built by dbt build) and put its figures into the run summary."""
    rows = evaluation_rows()
    if rows is None:
        ctx.failed_checks.append(f"{EVALUATION_MODEL}: not built, so recommendation quality is unknown")
        print(f"  {EVALUATION_MODEL} was not built")
        return
    summary, failures = quality_summary(rows)
    ctx.summary.update(summary)
    ctx.failed_checks.extend(failures)
    figures = ", ".join(f"{key}={value}" for key, value in sorted(summary.items()))
    print(f"  recommendations: {figures}")
    if not summary.get("reco_quality_gated", True):
        print(
            f"  WARNING recommender vs popularity not gated: {summary['reco_users_evaluated']} users "
            f"evaluated, fewer than {MIN_USERS_TO_COMPARE} (land more data for a meaningful comparison)"
        )
