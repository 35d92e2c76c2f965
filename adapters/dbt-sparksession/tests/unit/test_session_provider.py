"""How a profile's `session_provider` is loaded, prepared and called, and how it fails."""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterator

import pytest
from dbt.adapters.exceptions import FailedToConnectError
from dbt_common.context import get_invocation_context, set_invocation_context
from dbt_common.dataclass_schema import ValidationError

from dbt.adapters.sparksession import session
from dbt.adapters.sparksession.connections import SparkSessionCredentials, get_session


class FakeProvider:
    def __init__(self) -> None:
        self.prepared = 0
        self.confs: list[dict[str, str]] = []

    def prepare(self) -> dict[str, str]:
        self.prepared += 1
        return {"FAKE_PROVIDER_FORMAT": "delta"}

    def create_session(self, conf: dict[str, str]) -> object:
        self.confs.append(conf)
        return "the session"


@pytest.fixture
def provider_module() -> Iterator[types.ModuleType]:
    """A module `fake_provider` with a provider object, and module-level functions of its own."""
    module = types.ModuleType("fake_provider")
    module.PROVIDER = FakeProvider()  # type: ignore[attr-defined]
    module.create_session = lambda conf: ("module session", conf)  # type: ignore[attr-defined]
    sys.modules["fake_provider"] = module
    yield module
    del sys.modules["fake_provider"]


def test_a_module_is_a_provider(provider_module: types.ModuleType) -> None:
    assert session.load_provider("fake_provider") is provider_module


def test_module_colon_attribute_names_an_object(provider_module: types.ModuleType) -> None:
    assert session.load_provider("fake_provider:PROVIDER") is provider_module.PROVIDER


def test_prepare_runs_when_the_profile_is_read(provider_module: types.ModuleType) -> None:
    SparkSessionCredentials.from_dict({"schema": "s", "session_provider": "fake_provider:PROVIDER"})
    SparkSessionCredentials.from_dict({"schema": "s", "session_provider": "fake_provider:PROVIDER"})
    assert provider_module.PROVIDER.prepared == 2


def test_what_prepare_returns_reaches_env_var_in_the_running_invocation(
    provider_module: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAKE_PROVIDER_FORMAT", raising=False)
    set_invocation_context({})  # what dbt does when an invocation starts: a copy of the environment
    SparkSessionCredentials.from_dict({"schema": "s", "session_provider": "fake_provider:PROVIDER"})
    assert get_invocation_context().env["FAKE_PROVIDER_FORMAT"] == "delta"
    assert os.environ["FAKE_PROVIDER_FORMAT"] == "delta"


def test_prepare_is_optional(provider_module: types.ModuleType) -> None:
    SparkSessionCredentials.from_dict({"schema": "s", "session_provider": "fake_provider"})


def test_the_provider_gets_the_targets_conf(provider_module: types.ModuleType) -> None:
    creds = SparkSessionCredentials.from_dict(
        {"schema": "s", "master": "yarn", "session_provider": "fake_provider:PROVIDER"}
    )
    assert get_session(creds) == "the session"
    assert provider_module.PROVIDER.confs == [{"spark.sql.ansi.enabled": "false", "spark.master": "yarn"}]


def test_an_unknown_module_is_one_line() -> None:
    with pytest.raises(session.SessionProviderError) as error:
        session.load_provider("no_such_provider_module")
    assert str(error.value) == (
        "session_provider 'no_such_provider_module' cannot be loaded: "
        "No module named 'no_such_provider_module'"
    )


def test_an_unknown_attribute_is_one_line(provider_module: types.ModuleType) -> None:
    with pytest.raises(session.SessionProviderError) as error:
        session.load_provider("fake_provider:NOPE")
    assert str(error.value) == (
        "session_provider 'fake_provider:NOPE' cannot be loaded: "
        "module 'fake_provider' has no attribute 'NOPE'"
    )


def test_an_object_without_create_session_is_refused(provider_module: types.ModuleType) -> None:
    provider_module.NOT_A_PROVIDER = object()  # type: ignore[attr-defined]
    with pytest.raises(session.SessionProviderError, match="has no create_session"):
        session.load_provider("fake_provider:NOT_A_PROVIDER")


def test_a_failing_prepare_is_one_line_in_the_profile_error(provider_module: types.ModuleType) -> None:
    def refuse() -> None:
        raise ValueError("MY_FORMAT='orc' is unknown\nTraceback lines")

    provider_module.prepare = refuse  # type: ignore[attr-defined]
    with pytest.raises(ValidationError) as error:  # what dbt reports as the profile's error
        SparkSessionCredentials.from_dict({"schema": "s", "session_provider": "fake_provider"})
    assert error.value.message == "MY_FORMAT='orc' is unknown"


def test_a_session_that_does_not_start_is_a_one_line_connection_error(
    provider_module: types.ModuleType,
) -> None:
    def down(conf: dict[str, str]) -> object:
        raise RuntimeError("the cluster is down\n\tat Stack.trace(Java:1)")

    provider_module.create_session = down  # type: ignore[attr-defined]
    creds = SparkSessionCredentials.from_dict({"schema": "s", "session_provider": "fake_provider"})
    with pytest.raises(FailedToConnectError) as error:
        get_session(creds)
    assert error.value.msg == "the cluster is down"


class FakeJavaError(Exception):
    """What Py4J raises: a useless first line, the Java exception (and its causes) beside it."""

    def __init__(self) -> None:
        super().__init__("An error occurred while calling o42.sql.\n: java.lang.RuntimeException: ...")
        root = types.SimpleNamespace(
            getCause=lambda: None,
            getClass=lambda: types.SimpleNamespace(getName=lambda: "java.io.FileNotFoundException"),
            getMessage=lambda: "/jars/delta.jar (No such file or directory)",
        )
        self.java_exception = types.SimpleNamespace(getCause=lambda: root)


def test_a_java_error_is_its_root_cause() -> None:
    assert session.one_line(FakeJavaError()) == (
        "java.io.FileNotFoundException: /jars/delta.jar (No such file or directory)"
    )
