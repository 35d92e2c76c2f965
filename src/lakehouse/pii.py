"""The salt of the PII hashes: given to Spark at run time, never written into SQL or any file.

dbt renders `hash_pii` with the placeholder `${env:LAKEHOUSE_PII_SALT}`, and Spark substitutes it
from the JVM's own environment when it parses each statement. So the compiled SQL, the manifest,
run results, logs and the docs site only ever hold the placeholder, and the value lives in the
environment of the processes that hash (this driver's JVM, or the Thrift server's). Views would
keep the substituted text in the metastore, so the models that hash are tables.
"""

from __future__ import annotations

import os

from lakehouse.errors import LakehouseError

ENV = "LAKEHOUSE_PII_SALT"
DEV_SALT = "lakehouse-dev-salt"  # local development only: hashes made with it are not private
# the salt sits inside a SQL string literal after substitution
FORBIDDEN = ("'", '"', "\\", "$", "{", "}", "\n", "\r")


def salt() -> str:
    """LAKEHOUSE_PII_SALT, or the development default when it is unset."""
    value = os.environ.get(ENV) or DEV_SALT
    if any(char in value for char in FORBIDDEN):
        raise LakehouseError(
            f"{ENV} may not contain quotes, backslashes, $, braces or line breaks "
            "(use e.g. `openssl rand -hex 32`)"
        )
    return value


def uses_dev_salt() -> bool:
    return salt() == DEV_SALT


def require_production_salt(where: str) -> None:
    """Refuse to hash PII with the development salt where real data is expected."""
    if uses_dev_salt():
        raise LakehouseError(
            f"{where} refuses the development PII salt: export {ENV} (e.g. `openssl rand -hex 32`; "
            "the same value for every run, or hashes stop matching)"
        )


def export_for_spark() -> None:
    """Put the salt in this process's environment, so the JVM it starts inherits it."""
    os.environ[ENV] = salt()
