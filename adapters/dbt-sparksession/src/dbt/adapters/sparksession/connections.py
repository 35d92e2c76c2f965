"""Credentials and connections: dbt-spark's, with `session` running SQL on the provider's SparkSession."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dbt.adapters.contracts.connection import Connection, ConnectionState
from dbt.adapters.exceptions import FailedToConnectError
from dbt.adapters.spark.connections import SparkConnectionManager, SparkConnectionMethod, SparkCredentials
from dbt.adapters.spark.session import Cursor, SessionConnectionWrapper
from dbt_common.dataclass_schema import ValidationError
from dbt_common.exceptions import DbtRuntimeError

from dbt.adapters.sparksession import session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass
class SparkSessionCredentials(SparkCredentials):
    """dbt-spark credentials; `method` defaults to `session`, which needs no `host`.

    `master` (e.g. `local[4]`, `spark://host:7077`, `yarn`) is passed to the session as `spark.master`.
    `session_provider` names the module (or `module:object`) that supplies the session; see
    `dbt.adapters.sparksession.session`. Its `prepare()` runs here, when dbt reads the profile.
    """

    method: SparkConnectionMethod = SparkConnectionMethod.SESSION
    master: str | None = None
    session_provider: str | None = None

    @classmethod
    def __pre_deserialize__(cls, data: Any) -> Any:
        data = super().__pre_deserialize__(data)
        if data.get("method", "session") == "session":
            data.setdefault("host", "in-process")
        return data

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.session_provider:
            # before dbt renders dbt_project.yml, which may read what prepare() exports
            try:
                session.prepare(self.session_provider)
            except session.SessionProviderError as exc:
                # dbt reports it as 'Credentials in profile "p", target "t" invalid: <this line>'
                raise ValidationError(str(exc)) from exc

    @property
    def type(self) -> str:
        return "sparksession"

    def _connection_keys(self) -> tuple[str, ...]:
        return ("method", "master", "session_provider", "host", "port", "schema")

    def session_conf(self) -> dict[str, str]:
        """What the session provider is given: the server-side parameters, and `master` as `spark.master`."""
        conf = dict(self.server_side_parameters)
        if self.master:
            conf["spark.master"] = self.master
        return conf


def get_session(credentials: SparkSessionCredentials) -> SparkSession:
    """This target's SparkSession from its provider; a failure is a one-line connection error."""
    try:
        return session.get_session(credentials.session_provider, credentials.session_conf())
    except session.SessionProviderError as exc:
        raise FailedToConnectError(str(exc)) from exc


class SparkSessionConnectionManager(SparkConnectionManager):
    TYPE = "sparksession"

    @classmethod
    def open(cls, connection: Connection) -> Connection:
        creds = connection.credentials
        if connection.state == ConnectionState.OPEN or creds.method != SparkConnectionMethod.SESSION:
            return super().open(connection)
        connection.handle = QuotingSessionConnectionWrapper(SessionHandle(get_session(creds)))
        connection.state = ConnectionState.OPEN
        return connection


class SessionCursor(Cursor):
    """dbt-spark's session cursor, running statements on the given session.

    Upstream looks the session up with `SparkSession.builder...getOrCreate()` at every statement,
    which may be another session than the one the provider made (or start one)."""

    def __init__(self, spark: SparkSession) -> None:
        super().__init__()
        self._spark = spark

    def execute(self, sql: str, *parameters: Any) -> None:
        from pyspark.errors import AnalysisException

        if parameters:
            sql = sql % parameters
        try:
            self._df = self._spark.sql(sql)
        except AnalysisException as exc:
            raise DbtRuntimeError(str(exc)) from exc


class SessionHandle:
    """The connection handle dbt-spark's session wrapper expects, bound to one SparkSession."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark

    def cursor(self) -> SessionCursor:
        return SessionCursor(self.spark)


class QuotingSessionConnectionWrapper(SessionConnectionWrapper):
    """dbt-spark's session wrapper, with string bindings escaped as Spark SQL literals.

    Upstream wraps strings in quotes without escaping, so a seed value containing `'` or `\\`
    produces broken SQL (e.g. dbt's own Python-model test seed with quoted IP addresses).
    """

    def __init__(self, handle: SessionHandle) -> None:
        super().__init__(handle)  # type: ignore[arg-type]

    @classmethod
    def _fix_binding(cls, value: Any) -> str | float:
        if isinstance(value, str):
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        if value is None:  # upstream renders None as the string 'None' (empty seed cells)
            return "null"
        return super()._fix_binding(value)
