"""reco_evaluation: hit-rate and recall at k of the recommender and the popularity baseline, by time split."""

from lakehouse.recommend.evaluation import evaluate_recommenders
from lakehouse.recommend.recommender import RecommenderParams


def model(dbt, session):
    events = dbt.ref("fct_events")
    params = RecommenderParams.from_mapping(dbt.config.get("recommender"))
    return evaluate_recommenders(session, events, params, k=int(dbt.config.get("evaluation_k")))
