"""item_features: one row per product (thin wrapper over lakehouse.features.items)."""

from lakehouse.features.items import item_features


def model(dbt, session):
    events = dbt.ref("fct_events")
    products = dbt.ref("dim_products")
    similarity = dbt.ref("item_similarity")
    return item_features(events, products, similarity, window_days=int(dbt.config.get("trend_window_days")))
