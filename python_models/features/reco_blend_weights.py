"""reco_blend_weights: the blend fit on the newest days (thin wrapper over lakehouse.recommend)."""

from lakehouse.recommend.params import RecommenderParams
from lakehouse.recommend.recommender import blend_weights


def model(dbt, session):
    events = dbt.ref("fct_events")
    params = RecommenderParams.from_mapping(dbt.config.get("recommender"))
    return blend_weights(session, events, params)
