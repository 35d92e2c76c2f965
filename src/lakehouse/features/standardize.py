"""Vectorized z-score standardization: an Arrow function over record batches, run with `mapInArrow`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as sf
from pyspark.sql.types import DoubleType, StructField, StructType

Z_SUFFIX = "_z"


@dataclass(frozen=True)
class ColumnStats:
    """Population mean and standard deviation of one column (nulls ignored)."""

    mean: float | None
    std: float | None


def standardize_array(values: pa.Array, stats: ColumnStats) -> pa.Array:
    """(x - mean) / std as float64; nulls stay null, and a constant column (std 0 or unknown) maps to 0."""
    as_double = pc.cast(values, pa.float64())
    if stats.mean is None:
        return pa.nulls(len(values), pa.float64())
    if not stats.std:
        return pc.if_else(pc.is_null(as_double), pa.scalar(None, pa.float64()), 0.0)
    return pc.divide(pc.subtract(as_double, stats.mean), stats.std)


def standardize_batch(batch: pa.RecordBatch, stats: Mapping[str, ColumnStats]) -> pa.RecordBatch:
    """Append a `<column>_z` float64 column for each column in `stats`; other columns pass through."""
    arrays = list(batch.columns)
    names = list(batch.schema.names)
    for column, column_stats in stats.items():
        arrays.append(standardize_array(batch.column(column), column_stats))
        names.append(column + Z_SUFFIX)
    return pa.RecordBatch.from_arrays(arrays, names=names)


def column_stats(frame: DataFrame, columns: Sequence[str]) -> dict[str, ColumnStats]:
    """Mean and population standard deviation of each column, in one Spark aggregation."""
    aggregates = []
    for column in columns:
        aggregates += [sf.avg(column).alias(f"{column}__mean"), sf.stddev_pop(column).alias(f"{column}__std")]
    row = frame.agg(*aggregates).first()
    assert row is not None  # a global aggregate always returns one row
    return {column: ColumnStats(row[f"{column}__mean"], row[f"{column}__std"]) for column in columns}


def standardize_columns(frame: DataFrame, columns: Sequence[str]) -> DataFrame:
    """Spark edge: add `<column>_z` for each numeric column, computed batch-wise in Arrow."""
    if not columns:
        return frame
    # materialize once: the statistics and the write would otherwise each recompute the whole
    # upstream plan (grouped maps, self-joins); feature tables are one row per user or product
    frame = frame.localCheckpoint(eager=True)
    stats = column_stats(frame, columns)
    schema = StructType(
        [*frame.schema.fields, *(StructField(column + Z_SUFFIX, DoubleType(), True) for column in columns)]
    )

    def standardize(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield standardize_batch(batch, stats)

    return frame.mapInArrow(standardize, schema)
