"""user_recommendations: top-N products per user (thin wrapper over lakehouse.recommend.recommender)."""

from lakehouse.recommend.params import RecommenderParams
from lakehouse.recommend.recommender import user_recommendations


def model(dbt, session):
    events = dbt.ref("fct_events")
    users = dbt.ref("dim_users").where("not is_deleted")
    sellable = dbt.ref("dim_products").where("is_active")
    similarity = dbt.ref("item_similarity")
    weights = dbt.ref("reco_blend_weights")
    params = RecommenderParams.from_mapping(dbt.config.get("recommender"))
    return user_recommendations(events, users, similarity, sellable, weights, params)
