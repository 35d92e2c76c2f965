"""The sparksession adapter plugin's own pieces, outside dbt's suite."""

from __future__ import annotations

import pytest
from dbt.adapters.spark.connections import SparkConnectionMethod
from dbt_common.exceptions import DbtRuntimeError

from dbt.adapters.sparksession.connections import QuotingSessionConnectionWrapper, SparkSessionCredentials
from dbt.adapters.sparksession.python_submissions import SessionPythonJobHelper

MODEL = {"schema": "marts", "alias": "user_features", "config": {}}


def test_session_is_the_default_method_and_needs_no_host() -> None:
    creds = SparkSessionCredentials.from_dict({"schema": "lakehouse"})
    assert creds.method == SparkConnectionMethod.SESSION
    assert creds.type == "sparksession"


def test_python_model_on_thrift_target_fails_with_a_clear_sentence() -> None:
    creds = SparkSessionCredentials.from_dict(
        {"method": "thrift", "host": "127.0.0.1", "port": 10000, "schema": "lakehouse"}
    )
    with pytest.raises(DbtRuntimeError, match="needs a session target") as error:
        SessionPythonJobHelper(MODEL, creds)
    assert "marts.user_features" in str(error.value)


@pytest.mark.parametrize(
    ("value", "literal"),
    [("plain", "'plain'"), ("'69.135.206.194'", "'\\'69.135.206.194\\''"), ("a\\b", "'a\\\\b'")],
)
def test_string_bindings_are_escaped(value: str, literal: str) -> None:
    assert QuotingSessionConnectionWrapper._fix_binding(value) == literal


def test_none_binding_is_sql_null() -> None:
    # an empty seed cell must load as null, not as the string 'None'
    assert QuotingSessionConnectionWrapper._fix_binding(None) == "null"


@pytest.mark.spark
@pytest.mark.parametrize("value", ["it's", "back\\slash", "'quoted'", "%s percent"])
def test_escaped_literal_round_trips_through_spark(spark: object, value: str) -> None:
    literal = QuotingSessionConnectionWrapper._fix_binding(value)
    assert spark.sql(f"select {literal} as v").collect()[0].v == value  # type: ignore[attr-defined]
