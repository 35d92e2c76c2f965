"""Bronze ingestion: checkpointed, exactly-once streaming from the landing zone into bronze tables.

`ingest(spark, settings)` is the entry point (also used by the benchmark); `lakehouse ingest` is
its command line.
"""

from __future__ import annotations

from lakehouse.ingest.bronze import FeedCounts, IngestResult, ingest

__all__ = ["FeedCounts", "IngestResult", "ingest"]
