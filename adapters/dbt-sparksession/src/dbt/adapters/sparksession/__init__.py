"""dbt adapter `sparksession`: dbt-spark plus Python models, run in this process's SparkSession."""

from dbt.adapters.base import AdapterPlugin

from dbt.adapters.sparksession.connections import SparkSessionConnectionManager, SparkSessionCredentials
from dbt.adapters.sparksession.impl import SCHEMA_CHANGE_MARKER, SparkSessionAdapter
from dbt.adapters.sparksession.session import DefaultSessionProvider, SessionProvider
from dbt.include import sparksession

__all__ = [
    "SCHEMA_CHANGE_MARKER",
    "DefaultSessionProvider",
    "Plugin",
    "SessionProvider",
    "SparkSessionAdapter",
    "SparkSessionConnectionManager",
    "SparkSessionCredentials",
]

Plugin = AdapterPlugin(
    adapter=SparkSessionAdapter,  # type: ignore[arg-type]
    credentials=SparkSessionCredentials,
    include_path=sparksession.PACKAGE_PATH,
    dependencies=["spark"],
)
