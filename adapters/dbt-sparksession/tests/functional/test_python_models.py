"""dbt's Python-model adapter tests: models run in-process through the plugin's `session` method."""

from __future__ import annotations

import pytest
from dbt.tests.adapter.python_model import test_spark as spark_models
from dbt.tests.adapter.python_model.test_python_model import (
    BasePythonIncrementalTests,
    BasePythonModelTests,
)
from dbt.tests.adapter.python_model.test_spark import BasePySparkTests
from dbt.tests.util import run_dbt

from sparksession_testing import IS_DELTA


class TestPythonModels(BasePythonModelTests):
    pass


class TestPythonIncremental(BasePythonIncrementalTests):
    @pytest.fixture(scope="class")
    def project_config_update(self) -> dict[str, object]:
        # Parquet has no MERGE: the incremental Python model appends (Delta keeps dbt-spark's default)
        strategy = "merge" if IS_DELTA else "append"
        return {"models": {"+incremental_strategy": strategy}}


class TestPySparkDataFrames(BasePySparkTests):
    """pandas, PySpark and pandas-on-Spark DataFrames returned by a model all materialize.

    The suite's Koalas model is left out: Koalas is the pre-Spark-3.2 predecessor of
    pandas-on-Spark and is not installed (dbt-spark's own suite leaves it out too).
    """

    @pytest.fixture(scope="class")
    def models(self) -> dict[str, str]:
        return {
            "pandas_df.py": spark_models.PANDAS_MODEL,
            "pyspark_df.py": spark_models.PYSPARK_MODEL,
            "pandas_on_spark_df.py": spark_models.PANDAS_ON_SPARK_MODEL,
        }

    def test_different_dataframes(self, project: object) -> None:
        results = run_dbt(["run"])
        assert len(results) == 3
