"""The SQL `sparksession__merge_with_deletes_sql` builds, rendered from the installed macro file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2
import pytest

from dbt.include import sparksession

MACROS = Path(sparksession.PACKAGE_PATH) / "macros" / "materializations" / "incremental" / "merge.sql"


class CompilerError(Exception):
    pass


def raise_compiler_error(message: str) -> None:
    raise CompilerError(message)


def render(**kwargs: Any) -> str:
    """The macro's output with whitespace collapsed (its layout is not what is tested)."""
    env = jinja2.Environment(extensions=["jinja2.ext.do"], undefined=jinja2.StrictUndefined)
    env.globals["exceptions"] = {"raise_compiler_error": raise_compiler_error}
    module: Any = env.from_string(MACROS.read_text()).module
    return " ".join(str(module.sparksession__merge_with_deletes_sql(**kwargs)).split())


def clauses(sql: str) -> list[str]:
    return re.findall(r"when .*? then (?:delete|update set (?:\*|[^w]*?(?= when))|insert \*)", sql)


BASE = {
    "target": "analytics.users",
    "source": "users__dbt_tmp",
    "delete_condition": "DBT_INTERNAL_SOURCE.gone",
}


def test_deletes_before_it_updates_and_never_inserts_a_delete() -> None:
    sql = render(
        **BASE,
        unique_key="user_id",
        update_condition="DBT_INTERNAL_SOURCE.lsn >= DBT_INTERNAL_DEST.lsn",
    )
    assert sql.startswith(
        "merge into analytics.users as DBT_INTERNAL_DEST using users__dbt_tmp as DBT_INTERNAL_SOURCE"
    )
    assert " on DBT_INTERNAL_SOURCE.user_id = DBT_INTERNAL_DEST.user_id when " in sql
    assert clauses(sql) == [
        "when matched and (DBT_INTERNAL_SOURCE.gone) then delete",
        "when matched and (DBT_INTERNAL_SOURCE.lsn >= DBT_INTERNAL_DEST.lsn) then update set *",
        "when not matched and not (DBT_INTERNAL_SOURCE.gone) then insert *",
    ]


def test_joins_on_every_key_column_and_each_incremental_predicate() -> None:
    predicate = "DBT_INTERNAL_DEST.day >= '2026-01-01'"
    sql = render(**BASE, unique_key=["a", "b"], incremental_predicates=[predicate])
    assert (
        "on DBT_INTERNAL_SOURCE.a = DBT_INTERNAL_DEST.a and DBT_INTERNAL_SOURCE.b = DBT_INTERNAL_DEST.b"
        " and (DBT_INTERNAL_DEST.day >= '2026-01-01') when" in sql
    )
    assert "when matched then update set *" in sql  # no update condition given


def test_updates_only_the_chosen_columns() -> None:
    sql = render(**BASE, unique_key="id", update_columns=["name", "updated_at"])
    assert (
        "when matched then update set name = DBT_INTERNAL_SOURCE.name,"
        " updated_at = DBT_INTERNAL_SOURCE.updated_at when not matched" in sql
    )


@pytest.mark.parametrize("unique_key", [None, []])
def test_needs_a_unique_key(unique_key: object) -> None:
    with pytest.raises(CompilerError, match=r"^analytics.users: merge_delete_condition needs a unique_key"):
        render(**BASE, unique_key=unique_key)
