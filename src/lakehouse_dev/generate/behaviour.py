"""The generator's clickstream as a frame for the behaviour figures (lakehouse.importer.behaviour),
so the generator can be held to the figures it is calibrated to."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lakehouse.contracts.events import EVENT_TYPES
from lakehouse.importer.behaviour import sessionize
from lakehouse_dev.generate import reference as ref
from lakehouse_dev.generate.clickstream import Clickstream


def clickstream_frame(clicks: Clickstream) -> pd.DataFrame:
    """The generator's distinct human events (duplicates and bots left out) as a frame for
    behaviour_figures; a visitor is the cookie (anonymous_id), sessions as the sessionizer cuts them."""
    ev = clicks.events
    distinct = np.unique(ev["event_key"], return_index=True)[1]
    human = distinct[ev["client"][distinct] < len(ref.CLIENTS)]  # bots have client rows after the users'
    visitor, ts = ev["anon"][human], ev["true_ms"][human]
    return pd.DataFrame(
        {
            "visitor_id": visitor,
            "session_id": sessionize(visitor, ts),
            "event_type": np.array(EVENT_TYPES)[ev["event_type"][human]],
            "product_id": np.where(ev["product"][human] >= 0, ev["product"][human], -1),
            "event_ts": ts,
        }
    )
