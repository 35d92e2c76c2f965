"""Benchmark harness (`lakehouse bench` / `make bench`): where the time goes and what each optimization buys.

One run, one SparkSession, one machine: per-stage wall times, per-model dbt timings, peak memory of
the driver JVM and of the Python workers, and side-by-side ratios (vectorized vs row-at-a-time UDFs,
tuned vs default Spark settings, incremental vs full refresh, dbt vs hand-written PySpark, Arrow vs
plain `toPandas()`). Results go to `<dbt target>/bench/results.json` with a PNG chart.
"""

from __future__ import annotations

DEFAULT_SCALE = 1_000_000
# Collecting millions of rows into pandas row by row (the non-Arrow path) or through a pickled UDF
# takes minutes and gigabytes without telling more than a million rows do.
DEFAULT_MICRO_ROWS = 1_000_000
