"""Vectorised JSON-lines building with Arrow string kernels (no per-line Python).

A field piece is `"name":value` or null; null pieces are skipped, so absent values leave the key
out of the line entirely. Values come from reference tables that contain no characters needing
JSON escapes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def take(table: pa.Array, index: np.ndarray) -> pa.Array:
    """table[index] with null where index < 0."""
    missing = index < 0
    return pc.take(table, pa.array(np.where(missing, 0, index), mask=missing))


def iso_utc(ms: np.ndarray) -> pa.Array:
    """Epoch milliseconds → `2026-03-02T10:15:30.123Z`."""
    return pa.array(np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms", timezone="UTC"))


def iso_utc_micros(ms: np.ndarray) -> pa.Array:
    """Epoch milliseconds → `2026-03-02T10:15:30.123000Z`: how Debezium writes a timestamptz."""
    micros = ms.astype("datetime64[ms]").astype("datetime64[us]")
    return pa.array(np.char.add(np.datetime_as_string(micros, unit="us"), "Z"))


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation; null if any part is null."""
    return pc.binary_join_element_wise(*parts, "", null_handling="emit_null")


def string_field(name: str, values: pa.Array) -> pa.Array:
    return concat(f'"{name}":"', values, '"')


def raw_field(name: str, json_values: pa.Array) -> pa.Array:
    """A field whose values are already JSON text (numbers, booleans, objects)."""
    return concat(f'"{name}":', json_values)


def number_text(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(values, mask=missing)
    return pc.cast(arr, pa.string())


def bool_text(values: np.ndarray) -> pa.Array:
    return pa.array(np.where(values, "true", "false"))


def json_object(pieces: list[pa.Array]) -> pa.Array:
    body = pc.binary_join_element_wise(*pieces, ",", null_handling="skip")
    return concat("{", body, "}")


def to_bytes(lines: pa.Array | pa.ChunkedArray) -> bytes:
    """Newline-terminated lines as one buffer, straight from Arrow's data buffer."""
    binary = pc.cast(lines, pa.binary())
    newline = pa.scalar(b"\n", pa.binary())
    no_separator = pa.scalar(b"", pa.binary())
    joined = pc.binary_join_element_wise(binary, newline, no_separator)
    # one contiguous array (large inputs come back chunked), so its data buffer is the whole file
    terminated = (
        joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else pa.concat_arrays([joined])
    )
    offsets = np.frombuffer(terminated.buffers()[1], dtype=np.int32)
    start, end = offsets[terminated.offset], offsets[terminated.offset + len(terminated)]
    data = terminated.buffers()[2]
    return b"" if data is None else data.to_pybytes()[start:end]
