"""Contract building blocks: a named, versioned list of typed fields.

Types are spelled as Spark SQL type names so a contract reads like DDL and converts to a Spark
schema without a JVM.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql.types import (
    BooleanType,
    DataType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

SPARK_TYPES: dict[str, DataType] = {
    "string": StringType(),
    "int": IntegerType(),
    "long": LongType(),
    "double": DoubleType(),
    "boolean": BooleanType(),
    "timestamp": TimestampType(),
    "date": DateType(),
}


@dataclass(frozen=True)
class Field:
    """One field of a contract. `required` fields must be present and non-null in every record."""

    name: str
    type: str
    required: bool = False
    description: str = ""
    allowed: tuple[str, ...] = ()  # closed vocabulary for string fields; empty = any value

    def __post_init__(self) -> None:
        if self.type not in SPARK_TYPES:
            raise ValueError(f"field {self.name}: unknown type {self.type!r}")

    @property
    def spark_type(self) -> DataType:
        return SPARK_TYPES[self.type]


@dataclass(frozen=True)
class Contract:
    """A versioned record contract: later versions may only add optional fields."""

    name: str
    version: int
    fields: tuple[Field, ...]

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.name} v{self.version} has no field {name!r}")

    def spark_schema(self) -> StructType:
        return StructType([StructField(f.name, f.spark_type, nullable=True) for f in self.fields])

    def ddl(self) -> str:
        """Column list for CREATE TABLE, e.g. `event_id string, quantity int`."""
        return ", ".join(f"`{f.name}` {f.type}" for f in self.fields)

    def is_additive_over(self, older: Contract) -> bool:
        """True when this version keeps every older field with its type and adds only optional ones."""
        old = {f.name: f for f in older.fields}
        for name, kept in old.items():
            if name not in self.field_names or self.field(name).type != kept.type:
                return False
        return all(not f.required for f in self.fields if f.name not in old)
