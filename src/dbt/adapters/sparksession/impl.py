"""The adapter: dbt-spark's, with the in-process `session` Python submission method as default."""

from __future__ import annotations

from typing import Any

from dbt.adapters.base import PythonJobHelper
from dbt.adapters.spark.impl import SparkAdapter
from dbt_common.exceptions import DbtConfigError

from dbt.adapters.sparksession.connections import SparkSessionConnectionManager
from dbt.adapters.sparksession.python_submissions import SessionPythonJobHelper
from lakehouse import table_format
from lakehouse.config import Settings
from lakehouse.errors import LakehouseError


class SparkSessionAdapter(SparkAdapter):
    ConnectionManager = SparkSessionConnectionManager

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # dbt renders `file_format` while parsing, before any connection opens: decide it now.
        try:
            table_format.resolve(Settings.from_env())
        except LakehouseError as exc:
            raise DbtConfigError(str(exc)) from exc
        super().__init__(*args, **kwargs)

    @property
    def default_python_submission_method(self) -> str:
        return "session"

    @property
    def python_submission_helpers(self) -> dict[str, type[PythonJobHelper]]:
        return {**super().python_submission_helpers, "session": SessionPythonJobHelper}
