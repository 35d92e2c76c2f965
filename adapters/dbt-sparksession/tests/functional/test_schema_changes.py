"""`on_schema_change` on this adapter: an added column is added and reported in one log line a
program can collect; a changed column type stops the model with one line naming it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dbt.tests.util import relation_from_name, run_dbt

from dbt.adapters.sparksession import SCHEMA_CHANGE_MARKER

EVOLVING = """
{{ config(materialized='incremental', on_schema_change='append_new_columns') }}
{% set version = var('version', 1) %}
select
    1 as id,
    {% if version == 3 %}'10'{% else %}10{% endif %} as amount
    {%- if version >= 2 %}, 'note' as note{% endif %}
"""


def column_types(project: Any, name: str) -> dict[str, str]:
    rows = project.run_sql(f"describe {relation_from_name(project.adapter, name)}", fetch="all")
    return {row[0]: row[1] for row in rows if row[0] and not row[0].startswith("#")}


class TestSchemaChanges:
    @pytest.fixture(scope="class")
    def models(self) -> dict[str, str]:
        return {"evolving.sql": EVOLVING}

    def test_added_columns_are_added_and_reported(self, project: Any) -> None:
        run_dbt(["run"])
        reported: list[dict[str, Any]] = []

        def collect(event: Any) -> None:
            message = getattr(event.data, "msg", "")
            if event.info.name == "JinjaLogInfo" and message.startswith(SCHEMA_CHANGE_MARKER):
                reported.append(json.loads(message.removeprefix(SCHEMA_CHANGE_MARKER)))

        run_dbt(["run", "--vars", "{version: 2}"], callbacks=[collect])
        assert reported == [{"table": f"{project.test_schema}.evolving", "added": ["note"]}]
        assert column_types(project, "evolving") == {"id": "int", "amount": "int", "note": "string"}

    def test_a_type_change_stops_the_model_in_one_line(self, project: Any) -> None:
        results = run_dbt(["run", "--vars", "{version: 3}"], expect_pass=False)
        message = str(results[0].message)
        expected = (
            f"{project.test_schema}.evolving.amount: the model now makes it string but the table holds int;"
            " a type change is not additive"
        )
        assert any(line.strip().startswith(expected) for line in message.splitlines()), message
        assert column_types(project, "evolving")["amount"] == "int"
