"""Run a compiled dbt Python model inside this process's SparkSession."""

from __future__ import annotations

from typing import Any

from dbt.adapters.base import PythonJobHelper
from dbt.adapters.spark.connections import SparkConnectionMethod
from dbt_common.exceptions import DbtRuntimeError

from dbt.adapters.sparksession.connections import get_session


class SessionPythonJobHelper(PythonJobHelper):
    """`submission_method: session`: exec the model code with the target's session bound to `spark`."""

    def __init__(self, parsed_model: dict[str, Any], credentials: Any) -> None:
        self.identifier = f"{parsed_model['schema']}.{parsed_model['alias']}"
        self.credentials = credentials
        if credentials.method != SparkConnectionMethod.SESSION:
            raise DbtRuntimeError(
                f"Python model {self.identifier} needs a session target (`method: session`); "
                f"target method '{credentials.method}' can only run SQL models"
            )

    def submit(self, compiled_code: str) -> None:
        namespace: dict[str, Any] = {
            "spark": get_session(self.credentials),
            "__name__": f"dbt_model_{self.identifier}",
        }
        exec(compile(compiled_code, f"<dbt python model {self.identifier}>", "exec"), namespace)
