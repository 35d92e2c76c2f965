"""The SQL the project's macros render, on Delta and on Parquet, whichever format this run uses.

The statements run for real on Delta in tests/test_delta.py; here each format's text is checked
(what a macro renders for the format it is not running on). Each table format is rendered by one
in-process `dbt compile --inline` with dbt's own Jinja context (real macros, graph and dispatch),
with each macro's output between markers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from lakehouse import dbt_runner, table_format
from lakehouse.config import Settings

MARKER = "-- >>> "

# name -> Jinja expression; every expression is rendered under both table formats
EXPRESSIONS = {
    "is_delta": "lakehouse_is_delta()",
    "strategy": "lakehouse_incremental_strategy()",
    "current_state_materialization": "lakehouse_current_state_materialization()",
    "tblproperties": "lakehouse_delta_tblproperties()",
    "optimize": "delta_optimize_sql(api.Relation.create(schema='marts', identifier='fct_events'),"
    " ['user_id', 'product_id'])",
    "optimize_plain": "delta_optimize_sql(api.Relation.create(schema='marts', identifier='fct_events'))",
    "vacuum": "delta_vacuum_sql(api.Relation.create(schema='marts', identifier='fct_events'), 168)",
    "optimize_all": "optimize_delta_tables(dry_run=true)",
    "vacuum_all": "vacuum_delta_tables(dry_run=true)",
    "hash_pii": "hash_pii('ip_address')",
    "watermark": "incremental_watermark()",
    "dates_to_rebuild": "dates_to_rebuild(ref('stg_clickstream__events'))",
    "salt": "skew_salt('event_id', 8)",
    "salt_range": "skew_salt_range(8)",
    "schema_custom": "generate_schema_name('marts', none)",
    "schema_default": "generate_schema_name(none, none)",
}


def render_all(file_format: str, target_dir: Path) -> dict[str, str]:
    """Render every expression with LAKEHOUSE_FILE_FORMAT=`file_format`; name -> rendered text."""
    inline = "\n".join(f"{MARKER}{name}\n{{{{ {expr} }}}}" for name, expr in EXPRESSIONS.items())
    # the session provider's prepare() resolves (and exports) the format once per process: resolve it
    # now, so its call is answered from the cache, then pin the exported value this render is about
    table_format.resolve(Settings.from_env())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_TARGET_PATH", str(target_dir / "target"))
        patch.setenv("DBT_LOG_PATH", str(target_dir / "logs"))
        patch.setenv(table_format.ENV_RESOLVED, file_format)
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke(dbt_runner.dbt_args(["compile", "--inline", inline, "--quiet"], "local"))
    assert result.success, result.exception
    node: Any = result.result.results[0].node  # type: ignore[union-attr]
    compiled = str(node.compiled_code)
    sections = compiled.split(MARKER)[1:]
    rendered = {}
    for section in sections:
        name, _, body = section.partition("\n")
        rendered[name.strip()] = " ".join(body.split())  # whitespace-insensitive
    assert set(rendered) == set(EXPRESSIONS)
    return rendered


@pytest.fixture(scope="module")
def delta(tmp_path_factory: pytest.TempPathFactory, spark: object) -> dict[str, str]:
    return render_all("delta", tmp_path_factory.mktemp("render-delta"))


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory, spark: object) -> dict[str, str]:
    return render_all("parquet", tmp_path_factory.mktemp("render-parquet"))


@pytest.mark.spark
def test_format_switches(delta: dict[str, str], parquet: dict[str, str]) -> None:
    assert (delta["is_delta"], parquet["is_delta"]) == ("True", "False")
    assert (delta["strategy"], parquet["strategy"]) == ("insert_overwrite", "insert_overwrite")
    assert delta["current_state_materialization"] == "incremental"
    assert parquet["current_state_materialization"] == "table"


@pytest.mark.spark
def test_delta_table_properties_only_on_delta(delta: dict[str, str], parquet: dict[str, str]) -> None:
    assert "'delta.autoOptimize.optimizeWrite': 'true'" in delta["tblproperties"]
    assert parquet["tblproperties"] == "None"


@pytest.mark.spark
def test_optimize_zorders_by_the_given_columns(delta: dict[str, str]) -> None:
    assert delta["optimize"] == "optimize marts.fct_events zorder by (user_id, product_id)"
    assert delta["optimize_plain"] == "optimize marts.fct_events"


@pytest.mark.spark
def test_vacuum_keeps_the_retention(delta: dict[str, str]) -> None:
    assert delta["vacuum"] == "vacuum marts.fct_events retain 168 hours"


@pytest.mark.spark
def test_maintenance_targets_the_models_that_ask_for_it(delta: dict[str, str]) -> None:
    # fct_events declares meta.delta_zorder_by; the run-operations pick it up from the graph
    assert "optimize marts.fct_events zorder by (user_id, product_id)" in delta["optimize_all"]
    assert "vacuum marts.fct_events retain 168 hours" in delta["vacuum_all"]
    assert "dim_users" not in delta["optimize_all"]


@pytest.mark.spark
def test_maintenance_is_a_no_op_on_parquet(parquet: dict[str, str]) -> None:
    assert parquet["optimize_all"] == "[]"
    assert parquet["vacuum_all"] == "[]"


@pytest.mark.spark
def test_pii_hash_is_salted_and_normalized(parquet: dict[str, str]) -> None:
    sql = parquet["hash_pii"]
    # the salt itself is never rendered: Spark substitutes it from its environment (lakehouse.pii)
    assert "sha2(concat('${env:LAKEHOUSE_PII_SALT}', '|', lower(trim(ip_address))), 256)" in sql
    assert "when ip_address is null or trim(ip_address) = '' then null" in sql


@pytest.mark.spark
def test_salting_spreads_and_replicates(parquet: dict[str, str]) -> None:
    assert parquet["salt"] == "pmod(xxhash64(event_id), 8)"
    assert parquet["salt_range"] == "explode(sequence(0, 8 - 1))"


@pytest.mark.spark
def test_custom_schemas_are_used_as_is(parquet: dict[str, str]) -> None:
    assert parquet["schema_custom"] == "marts"
    assert parquet["schema_default"] == "lakehouse"


def test_watermark_is_the_newest_ingestion_in_this(parquet: dict[str, str]) -> None:
    """Not run against a built table (an inline compile, a unit test's fixture) the watermark is a
    scalar subquery over `this`; an empty table reads as the earliest time (everything is new)."""
    sql = parquet["watermark"]
    assert re.fullmatch(
        r"coalesce\( ?\(select max\(this_table\._ingested_at\) from \S+ as this_table\), "
        r"timestamp'0001-01-01 00:00:00' ?\)",
        sql,
    ), sql


def test_dates_to_rebuild_are_the_dates_of_rows_newer_than_the_watermark(parquet: dict[str, str]) -> None:
    sql = parquet["dates_to_rebuild"]
    assert sql.startswith(
        "select distinct changed.event_date from staging.stg_clickstream__events as changed"
    ), sql
    assert sql.endswith(f"where changed._ingested_at > {parquet['watermark']}"), sql
