"""What the adapter's tests share: this run's table format and Spark settings, and session providers.

The run is configured by environment variables (`make test-adapter` sets them):
- SPARKSESSION_TEST_FORMAT: `delta` or `parquet` (default), the `file_format` of every model, seed
  and snapshot;
- SPARKSESSION_TEST_DELTA_JARS: a directory holding the Delta connector's jars, for `delta`.

Spark is started by the adapter's default session provider from the profile's parameters, as a
dbt-spark user would configure it; its warehouse and Derby metastore live in a throw-away directory.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from dbt.adapters.sparksession import DefaultSessionProvider

FORMAT = os.environ.get("SPARKSESSION_TEST_FORMAT", "parquet").strip().lower()
IS_DELTA = FORMAT == "delta"
STATE_DIR = Path(tempfile.mkdtemp(prefix="dbt-sparksession-tests-"))

NEEDS_DELTA = pytest.mark.skipif(
    not IS_DELTA,
    reason=f"needs Delta (MERGE, DESCRIBE DETAIL); this run is on {FORMAT} (SPARKSESSION_TEST_FORMAT)",
)


def delta_conf() -> dict[str, str]:
    """Delta Lake as three session parameters: the connector's jars, its SQL extension and catalog."""
    jars_dir = os.environ.get("SPARKSESSION_TEST_DELTA_JARS", "")
    jars = sorted(Path(jars_dir).glob("*.jar")) if jars_dir else []
    if not any(jar.name.startswith(("delta-spark", "io.delta_delta-spark")) for jar in jars):
        raise pytest.UsageError(
            f"SPARKSESSION_TEST_FORMAT=delta needs SPARKSESSION_TEST_DELTA_JARS, a directory holding "
            f"the delta-spark jar and its dependencies (got {jars_dir!r})"
        )
    return {
        "spark.jars": ",".join(str(jar) for jar in jars),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    }


def spark_conf() -> dict[str, str]:
    """The `server_side_parameters` of the test profile."""
    conf = {
        "spark.driver.memory": "2g",
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.sql.warehouse.dir": str(STATE_DIR / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={STATE_DIR / 'metastore_db'};create=true"
        ),
        "spark.driver.extraJavaOptions": (
            f"-Dderby.system.home={STATE_DIR} -Dderby.stream.error.file={STATE_DIR / 'derby.log'}"
        ),
    }
    return {**conf, **(delta_conf() if IS_DELTA else {})}


class RecordingProvider:
    """A session provider that records what the adapter hands it and exports a setting in prepare()."""

    PREPARED_ENV = "SPARKSESSION_TEST_PREPARED_FORMAT"

    def __init__(self) -> None:
        self.prepared = 0
        self.confs: list[dict[str, str]] = []

    def prepare(self) -> dict[str, str]:
        self.prepared += 1
        return {self.PREPARED_ENV: FORMAT}

    def create_session(self, conf: dict[str, str]) -> SparkSession:
        self.confs.append(conf)
        return DefaultSessionProvider().create_session(conf)


class FailingProvider:
    """A provider whose Spark does not start, with a multi-line error."""

    def create_session(self, conf: dict[str, str]) -> SparkSession:
        raise RuntimeError("the cluster at spark://10.0.0.1:7077 is down\n\tat Stack.trace(Java:1)")


class FailingPrepare:
    """A provider whose prepare() refuses the environment."""

    def prepare(self) -> dict[str, str]:
        raise ValueError("MY_FORMAT='orc' is not a format this project builds\n(more detail)")

    def create_session(self, conf: dict[str, str]) -> SparkSession:
        raise AssertionError("never reached")


RECORDING = RecordingProvider()
FAILING = FailingProvider()
FAILING_PREPARE = FailingPrepare()
