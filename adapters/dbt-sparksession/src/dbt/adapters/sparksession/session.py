"""Where the adapter's SparkSession comes from: a session provider named in the profile, or the default.

A profile target may name a provider (`session_provider: my_project.spark` or `module:attribute`):
any module or object with

- `create_session(conf: dict[str, str]) -> SparkSession`: called when dbt opens a connection and
  before each Python model runs, with the target's `server_side_parameters` (plus `spark.master`
  when the target sets `master`). It must return this process's session, starting it on first use
  and handing back the same one after (as `SparkSession.builder.getOrCreate()` does). Calls are
  serialised, so a provider need not be thread-safe.
- optionally `prepare() -> Mapping[str, str] | None`: called each time dbt reads the profile,
  which is before dbt renders `dbt_project.yml`. A project whose YAML reads settings decided in
  Python (e.g. `+file_format: "{{ env_var('MY_FORMAT') }}"`) decides them here and returns them:
  the adapter sets each one in `os.environ` and in the environment dbt's `env_var()` reads (dbt
  copies the environment when an invocation starts, before it reads the profile). Keep it cheap
  and idempotent; it must not start Spark.

Without a provider, `DefaultSessionProvider` builds the session from the parameters alone.
Whatever a provider raises reaches dbt as one line.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from dbt_common.context import try_get_invocation_context

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_APP_NAME = "dbt"
_lock = threading.Lock()


class SessionProviderError(Exception):
    """A provider that cannot be loaded, or that failed, said in one line."""


@runtime_checkable
class SessionProvider(Protocol):
    """What a `session_provider` offers (`prepare()` is optional and not part of the check)."""

    def create_session(self, conf: dict[str, str]) -> SparkSession: ...


class DefaultSessionProvider:
    """`SparkSession.builder` with every parameter as a Spark setting, Hive catalog unless one is set.

    Delta Lake, for example, is three parameters: `spark.jars` (or `spark.jars.packages`),
    `spark.sql.extensions` and `spark.sql.catalog.spark_catalog`. On a local master, Python
    workers (pandas UDFs in Python models) run this interpreter unless PYSPARK_PYTHON says otherwise.
    """

    def create_session(self, conf: dict[str, str]) -> SparkSession:
        from pyspark.sql import SparkSession

        if conf.get("spark.master", "local").startswith("local"):
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = SparkSession.builder.appName(conf.get("spark.app.name", DEFAULT_APP_NAME))
        if "spark.sql.catalogImplementation" not in conf:
            builder = builder.enableHiveSupport()
        for key, value in conf.items():
            builder = builder.config(key, value)
        return builder.getOrCreate()


DEFAULT_PROVIDER = DefaultSessionProvider()


def one_line(error: BaseException, limit: int = 300) -> str:
    """The line that says what went wrong: for a Java exception raised through Py4J, its root cause
    (`java.lang.ClassNotFoundException: ...`), not "An error occurred while calling o12.sql" and the
    stack; otherwise the first line of the message (the type's name if there is none)."""
    java = getattr(error, "java_exception", None)
    if java is not None:
        try:
            while java.getCause() is not None:
                java = java.getCause()
            return f"{java.getClass().getName()}: {java.getMessage()}"[:limit]
        except Exception:  # the JVM is gone: fall back to the Python text
            pass
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:limit]


def load_provider(spec: str) -> SessionProvider:
    """Import the provider a profile names: `package.module` or `package.module:attribute`."""
    module_name, _, attribute = spec.partition(":")
    try:
        provider: Any = importlib.import_module(module_name)
        if attribute:
            provider = getattr(provider, attribute)
    except (ImportError, AttributeError) as exc:
        raise SessionProviderError(f"session_provider {spec!r} cannot be loaded: {one_line(exc)}") from exc
    if not isinstance(provider, SessionProvider):
        raise SessionProviderError(f"session_provider {spec!r} has no create_session(conf) function")
    return provider


def prepare(spec: str) -> None:
    """Load the named provider, run its `prepare()` if it has one, and export what it returns."""
    provider = load_provider(spec)
    prepare_hook = getattr(provider, "prepare", None)
    if prepare_hook is None:
        return
    try:
        variables = prepare_hook()
    except Exception as exc:
        raise SessionProviderError(one_line(exc)) from exc
    if variables:
        export(dict(variables))


def export(variables: dict[str, str]) -> None:
    """Set environment variables for this process and for the running dbt invocation's `env_var()`.

    dbt reads `env_var()` from a copy of the environment it takes when an invocation starts
    (dbt_common's invocation context), so setting `os.environ` alone is seen only by later ones."""
    os.environ.update(variables)
    context = try_get_invocation_context()
    if context is None:  # no invocation yet: the next one copies os.environ
        return
    env = context.env
    if isinstance(env, MutableMapping):
        env.update(variables)
    else:  # Windows: dbt's read-only, case-insensitive mapping
        context._env = type(env)({**env, **variables})  # type: ignore[call-arg]


def get_session(spec: str | None, conf: dict[str, str]) -> SparkSession:
    """The session the provider named by `spec` (or the default) gives for these parameters.

    Raises whatever went wrong as one line; the connection manager makes it a connection error.
    """
    provider = load_provider(spec) if spec else DEFAULT_PROVIDER
    with _lock:
        try:
            return provider.create_session(dict(conf))
        except Exception as exc:
            raise SessionProviderError(one_line(exc)) from exc
