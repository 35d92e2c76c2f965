"""user_recommendations: top-N products per user (thin wrapper over lakehouse.recommend.recommender)."""

from lakehouse.recommend.recommender import RecommenderParams, user_recommendations


def model(dbt, session):
    events = dbt.ref("fct_events")
    users = dbt.ref("dim_users").where("not is_deleted")
    sellable = dbt.ref("dim_products").where("is_active")
    similarity = dbt.ref("item_similarity")
    params = RecommenderParams.from_mapping(dbt.config.get("recommender"))
    return user_recommendations(events, users, similarity, sellable, params)
