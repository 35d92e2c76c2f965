"""reco_evaluation: the recommender and every baseline over several days, with bootstrap intervals.

Incremental only so that a run can see its last rows: they are kept when fct_events was not rebuilt
since and the settings are the same, else the evaluation runs again and replaces them.
"""

from lakehouse.recommend.evaluation import evaluate_recommenders
from lakehouse.recommend.params import EvaluationParams, RecommenderParams


def model(dbt, session):
    events = dbt.ref("fct_events")
    params = RecommenderParams.from_mapping(dbt.config.get("recommender"))
    evaluation = EvaluationParams.from_mapping(dbt.config.get("evaluation"))
    previous = session.table(str(dbt.this)) if dbt.is_incremental else None
    return evaluate_recommenders(session, events, params, evaluation, previous=previous)
