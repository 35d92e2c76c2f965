"""Behavioural figures of an event log (funnel rates, consideration across sessions, repeat
purchase): measured on every imported log, and the ones the sample generator is calibrated to
(targets and sources in docs/recommendations.md).

Plain pandas over a frame with visitor_id, session_id, event_type, product_id and event_ts, so
that the same figures can be measured on generated data and on an imported real log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SESSION_GAP_MS = 30 * 60 * 1000  # as the sessionizer: more than 30 idle minutes end a session


def sessionize(visitor: np.ndarray, ts_ms: np.ndarray, gap_ms: int = SESSION_GAP_MS) -> np.ndarray:
    """A session number per event: a visitor's next event starts a new session after more than
    `gap_ms` of inactivity."""
    order = np.lexsort((ts_ms, visitor))
    v, t = visitor[order], ts_ms[order]
    new = np.ones(len(v), dtype=bool)
    new[1:] = (v[1:] != v[:-1]) | (t[1:] - t[:-1] > gap_ms)
    number = np.empty(len(v), dtype=np.int64)
    number[order] = np.cumsum(new)
    return number


def _preceded(purchases: pd.DataFrame, earlier: pd.DataFrame, other_session: bool) -> pd.Series:
    """Per purchase: did the same visitor have an `earlier` event on the same product before it
    (in another session when `other_session`)?"""
    keys = ["visitor_id", "product_id"]
    first = earlier.groupby([*keys, "session_id"], as_index=False)["event_ts"].min()
    pairs = purchases.reset_index()[["index", *keys, "session_id", "event_ts"]].merge(
        first, on=keys, suffixes=("", "_earlier")
    )
    match = pairs["event_ts_earlier"] < pairs["event_ts"]
    if other_session:
        match &= pairs["session_id_earlier"] != pairs["session_id"]
    return pd.Series(purchases.index.isin(pairs.loc[match, "index"]), index=purchases.index)


def behaviour_figures(events: pd.DataFrame) -> dict[str, float]:
    """Funnel ratios, events per session, and the shares of purchases that follow a view of the
    same product (any time; in an earlier session) or repeat an earlier purchase of it."""
    kind = events["event_type"]
    views = events.loc[kind == "product_view"]
    carts = events.loc[kind == "add_to_cart"]
    purchases = events.loc[kind == "purchase"]
    per_session = events.groupby("session_id").size()
    figures = {
        "events_per_session_mean": float(per_session.mean()),
        "events_per_session_median": float(per_session.median()),
        "purchases": float(len(purchases)),
    }
    # funnel ratios only where the log has the step below (a purchases-only log has no views)
    for name, numerator, denominator in (
        ("cart_per_view", carts, views),
        ("purchase_per_cart", purchases, carts),
        ("purchase_per_view", purchases, views),
    ):
        if len(denominator):
            figures[name] = len(numerator) / len(denominator)
    if len(purchases) and len(views):
        figures["purchase_after_view"] = float(_preceded(purchases, views, other_session=False).mean())
        figures["purchase_after_earlier_session_view"] = float(
            _preceded(purchases, views, other_session=True).mean()
        )
    if len(purchases):
        figures["purchase_repeats_earlier_purchase"] = float(
            _preceded(purchases, purchases, other_session=True).mean()
        )
    return figures
