"""The adapter's credentials, Python-model guard and string bindings, without Spark."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from dbt.adapters.spark.connections import SparkConnectionMethod
from dbt_common.exceptions import DbtRuntimeError

from dbt.adapters.sparksession.connections import QuotingSessionConnectionWrapper, SparkSessionCredentials
from dbt.adapters.sparksession.python_submissions import SessionPythonJobHelper

MODEL = {"schema": "marts", "alias": "user_features", "config": {}}


def test_session_is_the_default_method_and_needs_no_host() -> None:
    creds = SparkSessionCredentials.from_dict({"schema": "analytics"})
    assert creds.method == SparkConnectionMethod.SESSION
    assert creds.type == "sparksession"
    assert creds.session_provider is None


def test_the_session_gets_the_parameters_and_the_master() -> None:
    creds = SparkSessionCredentials.from_dict(
        {"schema": "analytics", "master": "local[3]", "server_side_parameters": {"spark.sql.x": 1}}
    )
    # dbt-spark turns every value into a string and pins ANSI mode off
    assert creds.session_conf() == {
        "spark.sql.x": "1",
        "spark.sql.ansi.enabled": "false",
        "spark.master": "local[3]",
    }


def test_python_model_on_thrift_target_fails_with_a_clear_sentence() -> None:
    # a thrift target's credentials need PyHive; the helper reads only the method
    creds = SimpleNamespace(method=SparkConnectionMethod.THRIFT)
    with pytest.raises(DbtRuntimeError) as error:
        SessionPythonJobHelper(MODEL, creds)
    assert error.value.msg == (
        "Python model marts.user_features needs a session target (`method: session`); "
        "target method 'thrift' can only run SQL models"
    )


@pytest.mark.parametrize(
    ("value", "literal"),
    [("plain", "'plain'"), ("'69.135.206.194'", "'\\'69.135.206.194\\''"), ("a\\b", "'a\\\\b'")],
)
def test_string_bindings_are_escaped(value: str, literal: str) -> None:
    assert QuotingSessionConnectionWrapper._fix_binding(value) == literal


def test_none_binding_is_sql_null() -> None:
    # an empty seed cell must load as null, not as the string 'None'
    assert QuotingSessionConnectionWrapper._fix_binding(None) == "null"


def test_numbers_keep_dbt_sparks_binding() -> None:
    assert QuotingSessionConnectionWrapper._fix_binding(3) == 3
