"""Credentials and connections: dbt-spark's, with `session` opening the project's SparkSession."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbt.adapters.contracts.connection import Connection, ConnectionState
from dbt.adapters.exceptions import FailedToConnectError
from dbt.adapters.spark.connections import SparkConnectionManager, SparkConnectionMethod, SparkCredentials

from lakehouse.errors import LakehouseError


@dataclass
class SparkSessionCredentials(SparkCredentials):
    """dbt-spark credentials; `method` defaults to `session` and `host` is not needed for it.

    `master` (e.g. `spark://host:7077`) overrides LAKEHOUSE_SPARK_MASTER for session targets.
    """

    method: SparkConnectionMethod = SparkConnectionMethod.SESSION
    master: str | None = None

    @classmethod
    def __pre_deserialize__(cls, data: Any) -> Any:
        data = super().__pre_deserialize__(data)
        if data.get("method", "session") == "session":
            data.setdefault("host", "in-process")
        return data

    @property
    def type(self) -> str:
        return "sparksession"

    def _connection_keys(self) -> tuple[str, ...]:
        return ("method", "master", "host", "port", "schema")


class SparkSessionConnectionManager(SparkConnectionManager):
    TYPE = "sparksession"

    @classmethod
    def open(cls, connection: Connection) -> Connection:
        creds = connection.credentials
        if connection.state != ConnectionState.OPEN and creds.method == SparkConnectionMethod.SESSION:
            start_session(creds)
        return super().open(connection)


def start_session(creds: SparkSessionCredentials) -> None:
    """Start (or reuse) the project's SparkSession, turning setup problems into one-line dbt errors."""
    import os

    from lakehouse.spark import get_spark

    if creds.master:
        os.environ["LAKEHOUSE_SPARK_MASTER"] = creds.master
    try:
        get_spark("dbt", extra_conf=creds.server_side_parameters)
    except LakehouseError as exc:
        raise FailedToConnectError(str(exc)) from exc
