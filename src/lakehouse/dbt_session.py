"""The project's session provider for the `sparksession` dbt adapter.

Every session target in profiles/profiles.yml names it (`session_provider: lakehouse.dbt_session`),
so dbt, whether started by `lakehouse run` or as the plain `dbt` CLI, runs in the session
`lakehouse.spark.get_spark` makes: the project's one factory, with its Java, metastore-lock and
memory checks, its table format's jars and its settings.
"""

from __future__ import annotations

import os

from pyspark.sql import SparkSession

from lakehouse import table_format
from lakehouse.config import Settings
from lakehouse.spark import get_spark


def prepare() -> dict[str, str]:
    """The table format, decided before dbt renders dbt_project.yml, whose `+file_format` reads it.

    The adapter calls this when dbt reads the profile and exports what it returns, also to the
    environment dbt's `env_var()` reads. The format is decided (and exported) once per process;
    what is returned is the exported value, which a test may have pinned since."""
    table_format.resolve(Settings.from_env())
    return {table_format.ENV_RESOLVED: os.environ[table_format.ENV_RESOLVED]}


def create_session(conf: dict[str, str]) -> SparkSession:
    """This process's session; the target's `master` (`spark.master`) chooses the Spark master."""
    conf = dict(conf)
    master = conf.pop("spark.master", None)
    if master:
        os.environ["LAKEHOUSE_SPARK_MASTER"] = master
    return get_spark("dbt", extra_conf=conf)
