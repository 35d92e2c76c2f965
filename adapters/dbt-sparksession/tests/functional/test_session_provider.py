"""A profile's `session_provider` supplies the session, and its prepare() runs before dbt renders
dbt_project.yml; a provider that fails says so in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from dbt.cli.main import dbtRunner
from dbt.tests.util import relation_from_name, run_dbt

from sparksession_testing import FORMAT, RECORDING, RecordingProvider, spark_conf

PYTHON_MODEL = """
def model(dbt, session):
    dbt.config(materialized="table")
    return session.createDataFrame([(1, "one"), (2, "two")], "id int, name string")
"""


class TestProviderSuppliesTheSession:
    @pytest.fixture(scope="class")
    def dbt_profile_target(self, dbt_profile_target: dict[str, Any]) -> dict[str, Any]:
        return {**dbt_profile_target, "session_provider": "sparksession_testing:RECORDING"}

    @pytest.fixture(scope="class")
    def project_config_update(self) -> dict[str, Any]:
        # rendered when dbt loads the project: only the provider's prepare() sets this variable
        file_format = "{{ env_var('" + RecordingProvider.PREPARED_ENV + "') }}"
        return {"models": {"+materialized": "table", "+file_format": file_format}}

    @pytest.fixture(scope="class")
    def models(self) -> dict[str, str]:
        return {"sql_model.sql": "select 1 as id", "python_model.py": PYTHON_MODEL}

    def test_prepare_runs_before_the_project_is_rendered(
        self, project: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv(RecordingProvider.PREPARED_ENV)
        prepared = RECORDING.prepared
        run_dbt(["run"])
        assert RECORDING.prepared > prepared
        for name in ("sql_model", "python_model"):
            relation = relation_from_name(project.adapter, name)
            rows = project.run_sql(f"describe table extended {relation}", fetch="all")
            assert {row[0]: row[1] for row in rows}.get("Provider") == FORMAT

    def test_the_provider_gets_the_targets_parameters_and_master(self, project: Any) -> None:
        run_dbt(["run", "--select", "python_model"])
        assert RECORDING.confs
        conf = RECORDING.confs[-1]
        assert conf["spark.master"] == "local[2]"
        assert conf["spark.sql.warehouse.dir"] == spark_conf()["spark.sql.warehouse.dir"]


def invoke_with_provider(tmp_path: Path, provider: str) -> str:
    """`dbt run` of a one-model project whose profile names `provider`; the error dbt reports."""
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "models" / "one.sql").write_text("select 1 as id")
    (project / "dbt_project.yml").write_text(
        yaml.safe_dump({"name": "failing", "profile": "failing", "config-version": 2})
    )
    target = {
        "type": "sparksession",
        "schema": "failing",
        "session_provider": provider,
        "server_side_parameters": spark_conf(),
    }
    (project / "profiles.yml").write_text(
        yaml.safe_dump({"failing": {"target": "dev", "outputs": {"dev": target}}})
    )
    args = ["run", "--project-dir", str(project), "--profiles-dir", str(project)]
    result = dbtRunner().invoke([*args, "--log-path", str(tmp_path / "logs")])
    assert not result.success
    if result.exception is not None:
        return str(result.exception)
    node_result: Any = result.result.results[0]  # type: ignore[union-attr]
    return str(node_result.message)


def test_a_provider_whose_spark_does_not_start_fails_the_run_in_one_line(tmp_path: Path) -> None:
    error = invoke_with_provider(tmp_path, "sparksession_testing:FAILING")
    assert "the cluster at spark://10.0.0.1:7077 is down" in error
    assert "Stack.trace" not in error


def test_a_provider_that_refuses_in_prepare_fails_in_one_line(tmp_path: Path) -> None:
    error = invoke_with_provider(tmp_path, "sparksession_testing:FAILING_PREPARE")
    assert "MY_FORMAT='orc' is not a format this project builds" in error
    assert "(more detail)" not in error


def test_a_provider_that_cannot_be_imported_is_named(tmp_path: Path) -> None:
    error = invoke_with_provider(tmp_path, "no_such_module:provider")
    expected = "session_provider 'no_such_module:provider' cannot be loaded: No module named 'no_such_module'"
    assert expected in error
