"""A contract change on the built warehouse: an additive field flows from bronze to the marts with
no failure and no full refresh, and is reported; a type change stops with one line naming the column.

The change is made the way a developer makes it: the event contract gains an optional field, and
in a copy of the dbt project every model and yml that carries `app_version` (the field contract v2
added) carries the new field after it. Ordered after the tests that read the warehouse.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from lakehouse import dbt_runner
from lakehouse.config import Settings, project_dir
from lakehouse.contracts import events
from lakehouse.contracts.schema import Contract, Field
from lakehouse.run import pipeline
from lakehouse.run.steps import dbt_build_step, ingest_step
from tests.conftest import BuiltProject

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.mutates_warehouse]

NEW_FIELD = "page_title"
EVENTS_V3 = Contract("events", 3, (*events.EVENTS_V2.fields, Field(NEW_FIELD, "string")))
# the models that carry the field, and fct_sessions for the reconciliation test between the two facts
CHAIN = ["stg_clickstream__events", "int_events_sessionized", "fct_events", "fct_sessions"]
PROJECT_PARTS = ("dbt_project.yml", "models", "python_models", "macros", "seeds", "tests/dbt", "profiles")


def carry_new_field(text: str, suffix: str) -> str:
    """Wherever a model selects `app_version` or a yml documents it, do the same for the new field."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        out.append(line)
        index += 1
        if suffix == ".sql" and re.fullmatch(r"\s*(\w+\.)?app_version,\n", line):
            out.append(line.replace("app_version", NEW_FIELD))
        elif suffix == ".yml" and line.strip() == "- name: app_version":
            indent = len(line) - len(line.lstrip())
            block = [line]
            while index < len(lines) and len(lines[index]) - len(lines[index].lstrip()) > indent:
                block.append(lines[index])
                out.append(lines[index])
                index += 1
            out.extend(
                b.replace("{{ doc('app_version') }}", "Page title.").replace("app_version", NEW_FIELD)
                for b in block
            )
    return "".join(out)


@pytest.fixture
def evolved_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the dbt project with the new field carried through, used by dbt from now on."""
    copy = tmp_path / "project"
    for part in PROJECT_PARTS:
        source = project_dir() / part
        if source.is_dir():
            shutil.copytree(source, copy / part)
        else:
            (copy / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / part)
    changed = 0
    for path in [*copy.glob("models/**/*.sql"), *copy.glob("models/**/*.yml")]:
        text = path.read_text()
        evolved = carry_new_field(text, path.suffix)
        if evolved != text:
            path.write_text(evolved)
            changed += 1
    assert changed >= 6  # the three models and their yml, the source yml
    monkeypatch.setenv("LAKEHOUSE_PROJECT_DIR", str(copy))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(copy / "profiles"))
    monkeypatch.setattr(events, "LATEST_EVENTS", EVENTS_V3)
    return copy


def land_events(settings: Settings, spark: SparkSession, count: int) -> list[str]:
    """`count` page views an hour after the newest landed event, carrying the new field."""
    newest = spark.sql("select max(event_ts) from bronze.events").first()[0]
    ids = [f"evolve-{n}" for n in range(count)]
    lines = [
        json.dumps(
            {
                "event_id": event_id,
                "event_type": "page_view",
                "event_ts": (newest + timedelta(hours=1, seconds=n)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "anonymous_id": "a-evolve",
                "page_url": "/",
                NEW_FIELD: f"Home {n}",
            }
        )
        for n, event_id in enumerate(ids)
    ]
    relative = Path("events") / f"arrival_date={newest:%Y-%m-%d}" / "evolve.jsonl"
    (settings.landing_dir / relative).parent.mkdir(parents=True, exist_ok=True)
    (settings.landing_dir / relative).write_text("\n".join(lines) + "\n")
    manifest = settings.landing_dir / "_manifests" / relative.parent / "evolve.jsonl.json"
    manifest.write_text(json.dumps({"feed": "events", "file": relative.as_posix(), "lines": len(lines)}))
    return ids


def test_an_additive_field_flows_to_the_marts_without_a_full_refresh(
    built_project: BuiltProject, evolved_project: Path, spark: SparkSession, pipeline_target: str
) -> None:
    assert built_project.exit_code == 0
    settings = Settings.from_env()
    facts_before = spark.table("marts.fct_events").count()
    version_before = spark.sql("describe history marts.fct_events limit 1").first()["version"]
    ids = land_events(settings, spark, 5)

    steps = [("ingest", ingest_step), ("dbt build", dbt_build_step)]
    exit_code = pipeline.run(target="ci", steps=steps, dbt_selection=["--select", *CHAIN])

    summary: dict[str, Any] = json.loads((Path(pipeline_target) / "run_summary.json").read_text())
    assert exit_code == 0, summary["failed_checks"]
    assert summary["schema_changes"] == {
        "bronze.events": [NEW_FIELD],
        "staging.stg_clickstream__events": [NEW_FIELD],
        "intermediate.int_events_sessionized": [NEW_FIELD],
        "marts.fct_events": [NEW_FIELD],
    }
    facts = spark.table("marts.fct_events")
    assert facts.count() == facts_before + len(ids)
    titles = {r.event_id: r.page_title for r in facts.where(facts.event_id.isin(ids)).collect()}
    assert titles == {event_id: f"Home {n}" for n, event_id in enumerate(ids)}
    assert facts.where(f"{NEW_FIELD} is not null").count() == len(ids)  # older rows read null
    if summary["table_format"] == "delta":  # the table was altered and written to, never replaced
        history = spark.sql("describe history marts.fct_events").where(f"version > {version_before}")
        operations = {r.operation for r in history.collect()}
        assert "ADD COLUMNS" in operations
        assert not operations & {
            "CREATE TABLE AS SELECT",
            "CREATE OR REPLACE TABLE AS SELECT",
            "REPLACE TABLE AS SELECT",
        }


def test_a_changed_column_type_stops_the_model_with_one_line_naming_it(
    built_project: BuiltProject, evolved_project: Path, pipeline_target: str
) -> None:
    model = evolved_project / "models/staging/clickstream/stg_clickstream__events.sql"
    model.write_text(
        model.read_text().replace("        quantity,\n", "        cast(quantity as string) as quantity,\n")
    )
    outcome = dbt_runner.invoke(["run", "--select", "stg_clickstream__events"], "ci")
    assert not outcome.success
    assert outcome.failures == [
        "dbt staging.stg_clickstream__events model stg_clickstream__events [critical error]: "
        "staging.stg_clickstream__events.quantity: the model now makes "
        "it string but the table holds int; a type change is not additive (rebuild with `dbt run "
        "--full-refresh --select stg_clickstream__events`, or add a new column)"
    ]
