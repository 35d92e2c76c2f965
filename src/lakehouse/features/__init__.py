"""Feature engineering for the dbt Python models: plain pandas/Arrow functions, Spark at the edge.

Each module keeps its logic in type-hinted functions over `pandas.DataFrame` or `pyarrow.RecordBatch`
(tested without Spark) and wraps them with `applyInPandas` / `mapInArrow` in one small edge function
that takes and returns a Spark DataFrame.

Arrow settings, chosen in `lakehouse.spark.session_conf` and relied on here:
- `spark.sql.execution.arrow.maxRecordsPerBatch = ARROW_BATCH_ROWS` (10,000): the size of the record
  batches `mapInArrow` receives; large enough to amortise per-batch overhead, small enough that a
  batch of wide feature rows stays far below worker memory. Grouped maps (`applyInPandas`) get one
  whole group per call regardless, which is why bots (a few users with huge histories) are filtered
  out before any per-user grouping.
- `spark.sql.session.timeZone = UTC`: timestamps reach pandas as UTC-naive `datetime64`, so recency
  arithmetic in pandas agrees with Spark SQL whatever the machine's local time zone is.
- Arrow fallback is off, so a type Arrow cannot carry fails loudly instead of silently pickling rows.
"""

from __future__ import annotations
