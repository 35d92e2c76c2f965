"""dim_dates: one row per calendar day (a thin wrapper over lakehouse.calendar.date_spine)."""

from lakehouse.calendar import date_spine


def model(dbt, session):
    dbt.config(materialized="table")
    frame = date_spine(dbt.config.get("calendar_start"), dbt.config.get("calendar_end"))
    return session.createDataFrame(frame)
