"""Landed text lines → contract-typed rows or quarantine reasons (DataFrame → DataFrame).

Every field is first read as a string (`from_json` with an all-string schema keeps a number's
JSON text), then cast to its contract type. A line therefore fails for exactly one named reason
instead of turning silently into nulls, and numbers sent as JSON strings ("2") still load.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as sf
from pyspark.sql.types import LongType, StringType, StructField, StructType

from lakehouse.contracts import events
from lakehouse.contracts import quarantine as q
from lakehouse.contracts.cdc import CDC_CONTRACTS, CDC_OPS, primary_key
from lakehouse.contracts.events import EXTRA_FIELDS_COLUMN
from lakehouse.contracts.schema import Contract

CORRUPT = "_corrupt_record"
JSON_OPTIONS = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}
RAW = "value"  # the text source's column: one landed line
REASON = "_reject_reason"


def _as_strings(fields: list[str]) -> StructType:
    return StructType([*(StructField(f, StringType()) for f in fields), StructField(CORRUPT, StringType())])


def first_reason(*candidates: Column) -> Column:
    """The first non-null reason, or null when the line is valid."""
    return sf.coalesce(*candidates) if candidates else sf.lit(None).cast("string")


def is_json_container(path: str) -> Column:
    """True when the landed line's value at JSON `path` (`event_id`, `after.email`) is an object or
    an array. Reading a field as a string turns `{"nested": [1]}` into its JSON text, which looks
    exactly like a string that happens to hold JSON text; only the parsed value's type tells."""
    value = sf.expr(f"variant_get(try_parse_json({RAW}), '$.{path}')")
    return sf.schema_of_variant(value).rlike("^(OBJECT|ARRAY)")


def _field_checks(contract: Contract, text: str, typed: str, prefix: str = "") -> tuple[list[Column], ...]:
    """(missing, wrong type, invalid value) reason columns for every field of `contract`."""
    missing, wrong, invalid = [], [], []
    for field in contract.fields:
        raw, cast = sf.col(f"{text}.{field.name}"), sf.col(f"{typed}.{field.name}")
        name = f"{prefix}{field.name}"
        if field.required:
            missing.append(sf.when(raw.isNull(), sf.lit(f"{q.MISSING_REQUIRED_FIELD}:{name}")))
        if field.type != "string":
            wrong.append(sf.when(raw.isNotNull() & cast.isNull(), sf.lit(f"{q.WRONG_TYPE}:{name}")))
        else:  # an object or array where a scalar belongs; the line is parsed again only when the
            # text starts like one (CASE evaluates its branch for those rows alone)
            looks_nested = raw.startswith("{") | raw.startswith("[")
            wrong.append(
                sf.when(looks_nested, sf.when(is_json_container(name), sf.lit(f"{q.WRONG_TYPE}:{name}")))
            )
        if field.allowed:
            allowed = sf.array(*(sf.lit(v) for v in field.allowed))
            invalid.append(
                sf.when(
                    raw.isNotNull() & ~sf.array_contains(allowed, raw), sf.lit(f"{q.INVALID_VALUE}:{name}")
                )
            )
    return missing, wrong, invalid


def _typed_struct(contract: Contract, text: str) -> Column:
    return sf.struct(*(sf.col(f"{text}.{f.name}").cast(f.spark_type).alias(f.name) for f in contract.fields))


def _line_checks(parsed: str) -> list[Column]:
    return [
        sf.when(sf.col(RAW).isNull(), sf.lit(q.TOMBSTONE)),  # a Kafka record with a null value
        sf.when(~sf.expr(f"is_valid_utf8({RAW})"), sf.lit(q.INVALID_UTF8)),
        sf.when(
            sf.col(parsed).isNull() | sf.col(f"{parsed}.{CORRUPT}").isNotNull(), sf.lit(q.MALFORMED_JSON)
        ),
    ]


def parse_events(lines: DataFrame) -> DataFrame:
    """Adds the typed contract columns, `_extra_fields` and `_reject_reason` (null = valid)."""
    contract = events.LATEST_EVENTS  # looked up per call: a newer contract version takes effect
    known = sf.array(*(sf.lit(name) for name in contract.field_names))
    parsed = (
        lines.withColumn("_text", sf.from_json(RAW, _as_strings(list(contract.field_names)), JSON_OPTIONS))
        .withColumn("_typed", _typed_struct(contract, "_text"))
        .withColumn("_all", sf.from_json(RAW, "map<string,string>"))
        .withColumn("_extra", sf.map_filter("_all", lambda key, _value: ~sf.array_contains(known, key)))
    )
    missing, wrong, invalid = _field_checks(contract, "_text", "_typed")
    reason = first_reason(*_line_checks("_text"), *missing, *wrong, *invalid)
    return parsed.select(
        "*",
        *(sf.col(f"_typed.{name}").alias(name) for name in contract.field_names),
        sf.when(sf.size("_extra") > 0, sf.to_json("_extra")).alias(EXTRA_FIELDS_COLUMN),
        reason.alias(REASON),
    ).drop("_text", "_typed", "_all", "_extra")


ENVELOPE = StructType(
    [
        StructField("op", StringType()),
        StructField("before", StringType()),
        StructField("after", StringType()),
        StructField(
            "source", StructType([StructField("lsn", StringType()), StructField("ts_ms", StringType())])
        ),
        StructField(CORRUPT, StringType()),
    ]
)


def parse_changes(lines: DataFrame, feed: str) -> DataFrame:
    """Debezium envelope → op, lsn, ts_ms (source commit time), typed before/after, `_reject_reason`."""
    contract = CDC_CONTRACTS[feed]
    key = primary_key(feed)
    payload_text = _as_strings(list(contract.field_names))
    known = sf.array(*(sf.lit(name) for name in contract.field_names))
    parsed = (
        lines.withColumn("_env", sf.from_json(RAW, ENVELOPE, JSON_OPTIONS))
        .withColumn("_before_text", sf.from_json("_env.before", payload_text, JSON_OPTIONS))
        .withColumn("_after_text", sf.from_json("_env.after", payload_text, JSON_OPTIONS))
        .withColumn("_before", _typed_struct(contract, "_before_text"))
        .withColumn("_after", _typed_struct(contract, "_after_text"))
        .withColumn("_lsn", sf.col("_env.source.lsn").cast(LongType()))
        .withColumn("_ts_ms", sf.col("_env.source.ts_ms").cast(LongType()))
    )
    op = sf.col("_env.op")
    is_delete = op == sf.lit("d")
    # fields of the row image outside the contract: a column added to the source table
    image = sf.from_json(
        sf.when(is_delete, sf.col("_env.before")).otherwise(sf.col("_env.after")), "map<string,string>"
    )
    extra = sf.map_filter(image, lambda name, _value: ~sf.array_contains(known, name))
    state = sf.when(is_delete, sf.col("_before_text")).otherwise(sf.col("_after_text"))
    state_name = sf.when(is_delete, sf.lit("before")).otherwise(sf.lit("after"))
    # Only the payload key is required (a delete's `before`, else `after`); other fields may be null.
    _after_missing, after_wrong, after_invalid = _field_checks(contract, "_after_text", "_after", "after.")
    before_wrong = _field_checks(contract, "_before_text", "_before", "before.")[1]
    reason = first_reason(
        *_line_checks("_env"),
        sf.when(op.isNull(), sf.lit(f"{q.MISSING_REQUIRED_FIELD}:op")),
        sf.when(sf.col("_env.source.lsn").isNull(), sf.lit(f"{q.MISSING_REQUIRED_FIELD}:source.lsn")),
        sf.when(sf.col("_env.source.ts_ms").isNull(), sf.lit(f"{q.MISSING_REQUIRED_FIELD}:source.ts_ms")),
        sf.when(~op.isin(*CDC_OPS), sf.lit(f"{q.INVALID_VALUE}:op")),
        sf.when(
            state.isNull() | state.getField(key).isNull(),
            sf.concat(sf.lit(f"{q.MISSING_REQUIRED_FIELD}:"), state_name, sf.lit(f".{key}")),
        ),
        sf.when(sf.col("_lsn").isNull(), sf.lit(f"{q.WRONG_TYPE}:source.lsn")),
        sf.when(sf.col("_ts_ms").isNull(), sf.lit(f"{q.WRONG_TYPE}:source.ts_ms")),
        *after_wrong,
        *before_wrong,
        *after_invalid,
        # a present but non-object payload, e.g. "after": 42
        sf.when(
            sf.col("_env.after").isNotNull() & sf.col(f"_after_text.{CORRUPT}").isNotNull(),
            sf.lit(f"{q.MALFORMED_JSON}:after"),
        ),
    )
    return parsed.select(
        "*",
        op.alias("op"),
        sf.col("_lsn").alias("lsn"),
        sf.col("_ts_ms").alias("ts_ms"),
        sf.when(sf.col("_env.before").isNotNull(), sf.col("_before")).alias("before"),
        sf.when(sf.col("_env.after").isNotNull(), sf.col("_after")).alias("after"),
        sf.when(sf.size(extra) > 0, sf.to_json(extra)).alias(EXTRA_FIELDS_COLUMN),
        reason.alias(REASON),
    ).drop("_env", "_before_text", "_after_text", "_before", "_after", "_lsn", "_ts_ms")
