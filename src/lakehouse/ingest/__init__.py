"""Bronze ingestion: checkpointed, exactly-once streaming from the landing zone into bronze tables.

`ingest(spark, settings)` is the entry point (also used by the benchmark); `lakehouse ingest` is
its command line. Exports load lazily so the CLI starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakehouse.ingest.bronze import FeedCounts, IngestResult, ingest

__all__ = ["FeedCounts", "IngestResult", "ingest"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("lakehouse.ingest.bronze"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
