"""One quality layer per concern: no Great Expectations expectation checks what a dbt test checks.

Both sides are reduced to the same signature, (kind of check, table, columns): dbt's generic tests
and enforced contracts from the manifest of the build, the expectations from the gate's suites with
their tables resolved the way the gate resolves them. The two sets must not meet.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from lakehouse import dbt_runner
from lakehouse.validate import suites
from tests.conftest import BuiltProject

pytestmark = [pytest.mark.spark, pytest.mark.slow]

Signature = tuple[str, str, tuple[str, ...]]
GX_KINDS = {
    "expect_column_values_to_be_unique": "unique",
    "expect_column_values_to_not_be_null": "not_null",
    "expect_column_values_to_be_in_set": "accepted_values",
    "expect_compound_columns_to_be_unique": "unique_combination_of_columns",
    "expect_table_columns_to_match_set": "contract",
    "expect_table_columns_to_match_ordered_list": "contract",
    "expect_column_values_to_be_between": "expression",
    "expect_column_pair_values_a_to_be_greater_than_b": "expression",
    "expect_table_row_count_to_be_between": "row_count",
}
DBT_KINDS = {"expression_is_true": "expression", "row_count_between": "row_count"}


def gx_signatures(relations: dict[str, str]) -> set[Signature]:
    found = set()
    for suite in suites.SUITES:
        for expectation in suite.expectations():
            config = expectation.configuration
            kind = GX_KINDS.get(config.type, config.type)
            kwargs = config.kwargs
            columns = [kwargs.get(k) for k in ("column", "column_A", "column_B") if kwargs.get(k)]
            columns += list(kwargs.get("column_list") or [])
            found.add((kind, relations[suite.node], tuple(sorted(columns))))
    return found


def dbt_signatures(manifest: dict[str, Any]) -> set[Signature]:
    nodes = manifest["nodes"]
    relations = {uid: dbt_runner.relation_of(node) for uid, node in {**nodes, **manifest["sources"]}.items()}
    found = set()
    for node in nodes.values():
        if node["resource_type"] == "model" and node["config"].get("contract", {}).get("enforced"):
            found.add(("contract", relations[node["unique_id"]], ()))
        metadata = node.get("test_metadata")
        if node["resource_type"] != "test" or not metadata:
            continue
        model = node.get("attached_node") or node["depends_on"]["nodes"][0]
        kwargs = metadata.get("kwargs", {})
        kind = DBT_KINDS.get(metadata["name"], metadata["name"])
        if kind == "expression":  # the model's columns the expression names
            known = set(nodes.get(model, {}).get("columns", {}))
            columns = sorted(set(re.findall(r"[a-z_][a-z0-9_]*", kwargs.get("expression", ""))) & known)
            found.update((kind, relations[model], (column,)) for column in columns)
        else:
            combined = kwargs.get("combination_of_columns") or (
                [kwargs["column_name"]] if kwargs.get("column_name") else []
            )
            found.add((kind, relations[model], tuple(sorted(combined))))
    return found


def overlaps(expectations: set[Signature], dbt_tests: set[Signature]) -> set[Signature]:
    """Expectations dbt already checks; a range or comparison on a column that a dbt expression
    test names counts as the same check."""
    expression_columns = {(t, c) for kind, t, cols in dbt_tests if kind == "expression" for c in cols}
    return {
        s
        for s in expectations
        if s in dbt_tests or (s[0] == "expression" and any((s[1], c) in expression_columns for c in s[2]))
    }


def test_no_expectation_repeats_a_dbt_test(built_project: BuiltProject) -> None:
    manifest = json.loads((built_project.target / "manifest.json").read_text())
    relations = dbt_runner.named_relations(built_project.target / "manifest.json")
    expectations, dbt_tests = gx_signatures(relations), dbt_signatures(manifest)
    assert len(dbt_tests) > 100  # both sides were read
    assert len(expectations) >= 10
    assert overlaps(expectations, dbt_tests) == set()
    # and the comparison does find a repeat: the old suites checked fct_events' key and revenue
    repeats = {
        ("unique", "marts.fct_events", ("event_id",)),
        ("expression", "marts.fct_events", ("revenue_usd",)),
    }
    assert overlaps(expectations | repeats, dbt_tests) == repeats
