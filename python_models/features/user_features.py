"""user_features: one row per non-bot user with events (thin wrapper over lakehouse.features.users)."""

from lakehouse.features.users import user_features


def model(dbt, session):
    events = dbt.ref("fct_events")
    return user_features(events, half_life_days=float(dbt.config.get("affinity_half_life_days")))
