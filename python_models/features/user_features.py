"""user_features: one row per non-bot user with events (thin wrapper over lakehouse.features.users).

Incremental: a run recomputes only the users with fct_events rows newer than its watermark (`_ingested_at`).
"""

from lakehouse.features.users import user_features


def model(dbt, session):
    events = dbt.ref("fct_events")
    previous = session.table(str(dbt.this)) if dbt.is_incremental else None
    half_life_days = float(dbt.config.get("affinity_half_life_days"))
    return user_features(events, half_life_days=half_life_days, previous=previous)
