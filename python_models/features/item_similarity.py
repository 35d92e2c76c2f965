"""item_similarity: top-K co-occurrence neighbours per product (thin wrapper over lakehouse.recommend)."""

from lakehouse.recommend.params import RecommenderParams
from lakehouse.recommend.similarity import item_similarity


def model(dbt, session):
    events = dbt.ref("fct_events")
    params = RecommenderParams.from_mapping(dbt.config.get("recommender"))
    return item_similarity(events, params.top_k, params.max_items_per_session)
