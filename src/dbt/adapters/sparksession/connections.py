"""Credentials and connections: dbt-spark's, with `session` opening the project's SparkSession."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbt.adapters.contracts.connection import Connection, ConnectionState
from dbt.adapters.exceptions import FailedToConnectError
from dbt.adapters.spark.connections import SparkConnectionManager, SparkConnectionMethod, SparkCredentials
from dbt.adapters.spark.session import Connection as SessionHandle
from dbt.adapters.spark.session import SessionConnectionWrapper

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
        if connection.state == ConnectionState.OPEN or creds.method != SparkConnectionMethod.SESSION:
            return super().open(connection)
        start_session(creds)
        connection.handle = QuotingSessionConnectionWrapper(
            SessionHandle(server_side_parameters=creds.server_side_parameters)
        )
        connection.state = ConnectionState.OPEN
        return connection


class QuotingSessionConnectionWrapper(SessionConnectionWrapper):
    """dbt-spark's session wrapper, with string bindings escaped as Spark SQL literals.

    Upstream wraps strings in quotes without escaping, so a seed value containing `'` or `\\`
    produces broken SQL (e.g. dbt's own Python-model test seed with quoted IP addresses).
    """

    @classmethod
    def _fix_binding(cls, value: Any) -> str | float:
        if isinstance(value, str):
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        if value is None:  # upstream renders None as the string 'None' (empty seed cells)
            return "null"
        return super()._fix_binding(value)


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
