"""item_features: one row per product (thin wrapper over lakehouse.features.items)."""

from lakehouse.features.items import item_features
from lakehouse.recommend.recommender import RecommenderParams


def model(dbt, session):
    events = dbt.ref("fct_events")
    products = dbt.ref("dim_products")
    params = RecommenderParams.from_mapping(dbt.config.get("recommender"))
    return item_features(
        events,
        products,
        window_days=int(dbt.config.get("trend_window_days")),
        max_items_per_session=params.max_items_per_session,
    )
