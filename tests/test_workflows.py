"""The GitHub Actions workflows, checked here because they cannot run on this machine.

Each workflow must validate against the GitHub workflow JSON schema (SchemaStore's, vendored in
tests/schemas from check-jsonschema), and the pieces that have to agree across files must agree:
artifacts main publishes are the ones pull requests download, make targets exist, versions match
the project's.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml  # type: ignore[import-untyped]

from lakehouse.spark import MIN_JAVA

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
SCHEMA = ROOT / "tests" / "schemas" / "github-workflow.json"
# sha256 of check-jsonschema 0.39.0's vendored github-workflows.json: the copy stays verbatim
SCHEMA_SHA256 = "d10c9f4656e1bd5bc6727e9b35080e017dc167154726fca93da33c7a6bd1c4f3"

Workflow = dict[str, Any]


class WorkflowLoader(yaml.SafeLoader):
    """YAML as GitHub reads it: only true/false are booleans, so the key `on` stays a string.

    PyYAML follows YAML 1.1, where `on`, `yes` and `no` are booleans too.
    """


WorkflowLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
WorkflowLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_workflow(path: Path) -> Workflow:
    document = yaml.load(path.read_text(), Loader=WorkflowLoader)
    assert isinstance(document, dict), f"{path.name} is not a YAML mapping"
    return document


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


@pytest.fixture(scope="module")
def pr() -> Workflow:
    return load_workflow(WORKFLOWS / "pr.yml")


@pytest.fixture(scope="module")
def main() -> Workflow:
    return load_workflow(WORKFLOWS / "main.yml")


def steps(workflow: Workflow) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def uses(step: dict[str, Any], action: str) -> bool:
    """True when the step runs `action` (owner/name) at any version."""
    return str(step.get("uses", "")).startswith(f"{action}@")


def run_scripts(workflow: Workflow) -> list[str]:
    return [step["run"] for _, step in steps(workflow) if "run" in step]


def uploads(workflow: Workflow) -> dict[str, dict[str, Any]]:
    """Artifact name -> the `with:` of the step that uploads it."""
    found = {}
    for _, step in steps(workflow):
        if uses(step, "actions/upload-artifact"):
            found[step["with"]["name"]] = step["with"]
    return found


def test_the_vendored_schema_is_the_published_one() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256


def test_there_is_a_pull_request_and_a_main_workflow() -> None:
    assert {p.name for p in workflow_files()} >= {"pr.yml", "main.yml"}


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_workflow_validates_against_the_schema(path: Path, validator: jsonschema.Draft7Validator) -> None:
    errors = [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}"
        for e in validator.iter_errors(load_workflow(path))
    ]
    assert errors == []


def test_the_schema_rejects_a_broken_workflow(pr: Workflow, validator: jsonschema.Draft7Validator) -> None:
    broken = copy.deepcopy(pr)
    del broken["jobs"]["lint"]["runs-on"]
    broken["jobs"]["unit-tests"]["step"] = broken["jobs"]["unit-tests"].pop("steps")
    assert len(list(validator.iter_errors(broken))) >= 2


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_every_job_has_a_timeout_and_pinned_actions(path: Path) -> None:
    workflow = load_workflow(path)
    for job_id, job in workflow["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int), f"{job_id} has no timeout-minutes"
        assert job["timeout-minutes"] <= 60
    for job_id, step in steps(workflow):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+|[0-9a-f]{40})", step["uses"]), (job_id, step["uses"])


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_workflow_versions_match_the_project(path: Path) -> None:
    requires = re.search(r'requires-python = ">=(\d+\.\d+)', (ROOT / "pyproject.toml").read_text())
    assert requires is not None
    for job_id, step in steps(load_workflow(path)):
        if uses(step, "actions/setup-python"):
            assert step["with"]["python-version"] == requires.group(1), job_id
        if uses(step, "actions/setup-java"):
            assert int(step["with"]["java-version"]) >= MIN_JAVA, job_id


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_make_targets_and_scripts_the_workflows_call_exist(path: Path) -> None:
    makefile = (ROOT / "Makefile").read_text()
    for script in run_scripts(load_workflow(path)):
        for target in re.findall(r"\bmake (?:-\S+ )*([a-z][\w-]*)", script):
            assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), f"no make target {target}"
        for command in re.findall(r"(?:^|\s)(\.ci/[\w.-]+)", script):
            assert (ROOT / command).is_file(), command
            assert (ROOT / command).stat().st_mode & 0o111, f"{command} is not executable"


def test_pr_workflow_runs_on_pull_requests_with_read_only_token(pr: Workflow) -> None:
    assert "pull_request" in pr["on"]
    assert pr["permissions"] == {"contents": "read"}
    assert {"lint", "unit-tests", "dbt-build-delta", "slim-ci"} <= set(pr["jobs"])


def test_lint_job_runs_ruff_ruff_format_and_sqlfluff_on_changed_sql(pr: Workflow) -> None:
    lint = pr["jobs"]["lint"]
    assert lint["steps"][0]["with"]["fetch-depth"] == 0  # the base branch is needed for the diff
    scripts = "\n".join(step.get("run", "") for step in lint["steps"])
    assert "ruff check" in scripts
    assert "ruff format --check" in scripts
    sqlfluff = next(step["run"] for step in lint["steps"] if ".ci/sqlfluff lint" in step.get("run", ""))
    assert "git diff --name-only" in sqlfluff
    assert "'*.sql'" in sqlfluff


def test_unit_tests_job_runs_the_suite_as_make_test_does_here(pr: Workflow) -> None:
    """Both table formats, as `make test` runs them: no format forced, the connector jars cached."""
    job = pr["jobs"]["unit-tests"]
    assert "make test" in [step.get("run") for step in job["steps"]]
    assert "LAKEHOUSE_TABLE_FORMAT" not in {**pr.get("env", {}), **job.get("env", {})}
    cached = "\n".join(str(step["with"]["path"]) for step in job["steps"] if uses(step, "actions/cache"))
    assert ".jars" in cached


def test_dbt_build_runs_on_delta_with_connector_and_pip_caches(pr: Workflow, main: Workflow) -> None:
    for job in (pr["jobs"]["dbt-build-delta"], main["jobs"]["build"]):
        env = {**pr.get("env", {}), **main.get("env", {}), **job.get("env", {})}
        assert env["LAKEHOUSE_TABLE_FORMAT"] == "delta"
        cached = "\n".join(str(step["with"]["path"]) for step in job["steps"] if uses(step, "actions/cache"))
        assert ".jars" in cached
        assert "~/.cache/pip" in cached
        runs = [step.get("run") for step in job["steps"]]
        assert runs.index("make run TARGET=ci") < runs.index("make docs TARGET=ci")


def test_pr_uploads_the_docs_site(pr: Workflow) -> None:
    docs = uploads(pr)["dbt-docs"]
    for name in ("index.html", "manifest.json", "catalog.json"):
        assert f"target/{name}" in docs["path"]
    assert docs["if-no-files-found"] == "error"


def test_slim_ci_builds_modified_nodes_deferred_to_mains_manifest(pr: Workflow, main: Workflow) -> None:
    slim = pr["jobs"]["slim-ci"]
    assert slim["permissions"]["actions"] == "read"
    downloads = {
        step["with"]["name"]: step["with"]
        for step in slim["steps"]
        if uses(step, "actions/download-artifact")
    }
    # what the PR downloads is what main publishes, from main's latest successful run
    assert set(downloads) <= set(uploads(main))
    assert {"dbt-manifest", "lakehouse-state"} <= set(downloads)
    assert all(d["run-id"] == "${{ steps.main.outputs.run_id }}" for d in downloads.values())
    finder = next(step for step in slim["steps"] if step.get("id") == "main")
    assert "--workflow main.yml --branch main" in finder["run"]
    assert "--status success" in finder["run"]
    build = next(step["run"] for step in slim["steps"] if "dbt build" in step.get("run", ""))
    args = shlex.split(build)
    assert args[args.index("--select") + 1] == "state:modified+"
    assert "--defer" in args
    assert args[args.index("--state") + 1] == downloads["dbt-manifest"]["path"]
    assert uploads(main)["dbt-manifest"]["path"] == "target/manifest.json"


def test_main_publishes_on_push_to_main_and_deploys_the_docs(main: Workflow) -> None:
    assert main["on"]["push"]["branches"] == ["main"]
    assert main["concurrency"]["cancel-in-progress"] is False
    publish = main["jobs"]["publish-docs"]
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"pages": "write", "id-token": "write"}
    assert any(uses(step, "actions/deploy-pages") for step in publish["steps"])
    pages = next(step for _, step in steps(main) if uses(step, "actions/upload-pages-artifact"))
    assert pages["with"]["path"] == uploads(main)["dbt-docs"]["path"] == "site/"
