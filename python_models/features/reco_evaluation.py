"""reco_evaluation: hit-rate and recall at k of the recommender and the popularity baseline, by time split.

Incremental only so that a run can see its last rows: they are kept when fct_events was not rebuilt
since and the settings are the same, else the evaluation runs again and replaces them.
"""

from lakehouse.recommend.evaluation import evaluate_recommenders
from lakehouse.recommend.recommender import RecommenderParams


def model(dbt, session):
    events = dbt.ref("fct_events")
    params = RecommenderParams.from_mapping(dbt.config.get("recommender"))
    previous = session.table(str(dbt.this)) if dbt.is_incremental else None
    k = int(dbt.config.get("evaluation_k"))
    return evaluate_recommenders(session, events, params, k=k, previous=previous)
