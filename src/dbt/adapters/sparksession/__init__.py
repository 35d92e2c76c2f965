"""dbt adapter `sparksession`: dbt-spark plus Python models run in the same in-process SparkSession."""

from dbt.adapters.base import AdapterPlugin

from dbt.adapters.sparksession.connections import SparkSessionConnectionManager, SparkSessionCredentials
from dbt.adapters.sparksession.impl import SparkSessionAdapter
from dbt.include import sparksession

__all__ = ["Plugin", "SparkSessionAdapter", "SparkSessionConnectionManager", "SparkSessionCredentials"]

Plugin = AdapterPlugin(
    adapter=SparkSessionAdapter,  # type: ignore[arg-type]
    credentials=SparkSessionCredentials,
    include_path=sparksession.PACKAGE_PATH,
    dependencies=["spark"],
)
