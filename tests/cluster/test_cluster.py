"""The project on a real Spark standalone cluster on loopback, against a local run of the same sample.

One module-scoped cluster (Hive metastore service, master, two workers, Thrift server) under a
throw-away LAKEHOUSE_HOME. The same tiny sample is built three ways, each in its own process:
`lakehouse-dev run --target cluster` (executors on the workers), `dbt build --target thrift` (SQL
models through the Thrift server) and `lakehouse-dev run --target local` (embedded Spark, own state).
Row counts of every table must agree. Tear-down must leave no process of the cluster behind.

Run with `make test-cluster` (several minutes on two cores).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from lakehouse.config import Settings, project_dir
from lakehouse_dev import cluster

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

BIN = Path(sys.executable).parent
# tiny and deterministic: both runs generate exactly the same landing files
SAMPLE = {"LAKEHOUSE_SAMPLE_EVENTS": "1500", "LAKEHOUSE_SAMPLE_DAYS": "3", "LAKEHOUSE_SAMPLE_SEED": "7"}
# seconds one build may take: generous, since two cores shared with other jobs can slow Spark tenfold
BUILD_TIMEOUT = float(os.environ.get("LAKEHOUSE_CLUSTER_TEST_TIMEOUT", "3600"))


def _env(home: Path, target_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LAKEHOUSE_", "DBT_", "SPARK_", "PYSPARK_"))
    }
    env.update(SAMPLE)
    env.update(
        LAKEHOUSE_HOME=str(home),
        LAKEHOUSE_TABLE_FORMAT="parquet",  # row counts are compared from the tables' files
        LAKEHOUSE_DRIVER_MEMORY="2g",
        # the cluster and the Thrift server refuse the development salt: the suite's own random one
        LAKEHOUSE_PII_SALT=os.environ["LAKEHOUSE_PII_SALT"],
        DBT_TARGET_PATH=str(target_dir),
        DBT_LOG_PATH=str(target_dir / "logs"),
        DBT_PROFILES_DIR=str(project_dir() / "profiles"),
    )
    env.update(extra)
    return env


def _run(
    args: list[str], env: dict[str, str], timeout: float = BUILD_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    done = subprocess.run(
        args, env=env, cwd=project_dir(), capture_output=True, text=True, timeout=timeout, check=False
    )
    print(f"{' '.join(args[:4])}: exit {done.returncode} in {time.monotonic() - started:.0f}s")
    return done


def _table_models(target_dir: Path, language: str | None = None) -> dict[str, tuple[str, str]]:
    """`schema.name` of every model and seed the build materialised as a table, by unique id."""
    manifest = json.loads((target_dir / "manifest.json").read_text())
    tables = {}
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] not in {"model", "seed"}:
            continue
        materialized = node["config"]["materialized"]
        if node["resource_type"] == "model" and materialized not in {"table", "incremental"}:
            continue
        if language is not None and node.get("language", "sql") != language:
            continue
        tables[uid] = (node["schema"], node["alias"])
    return tables


def _file_counts(warehouse: Path, tables: dict[str, tuple[str, str]]) -> dict[str, int]:
    """Row counts read from the Parquet files of managed tables (no JVM needed)."""
    counts = {}
    for uid, (schema, name) in tables.items():
        path = warehouse / f"{schema}.db" / name
        counts[uid] = ds.dataset(path, format="parquet", partitioning="hive").count_rows()
    return counts


def _thrift_counts(config: cluster.ClusterConfig, tables: dict[str, tuple[str, str]]) -> dict[str, int]:
    """Row counts through the Thrift server: what a SQL client of the cluster sees."""
    from pyhive import hive

    connection = hive.connect(host=cluster.HOST, port=config.thrift_port, username="test")
    try:
        cursor = connection.cursor()
        counts = {}
        for uid, (schema, name) in tables.items():
            cursor.execute(f"select count(*) from `{schema}`.`{name}`")
            counts[uid] = int(cursor.fetchone()[0])
        return counts
    finally:
        connection.close()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """The local run, started first and left running while the cluster starts and builds."""
    home = tmp_path_factory.mktemp("local-home")
    env = _env(home, home / "target-local")
    command = [str(BIN / "lakehouse-dev"), "run", "--target", "local"]
    with subprocess.Popen(
        command, env=env, cwd=project_dir(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        yield home, process
        if process.poll() is None:
            process.kill()


@pytest.fixture(scope="module")
def cluster_home(
    tmp_path_factory: pytest.TempPathFactory, local_run: tuple[Path, subprocess.Popen[str]]
) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("cluster-home")
    env = _env(home, home / "target-up")
    started = time.monotonic()
    up = _run([str(BIN / "lakehouse-dev"), "cluster", "up"], env, timeout=600)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        print(f"cluster up in {time.monotonic() - started:.0f}s\n{up.stdout}")
        yield home
    finally:
        down = _run([str(BIN / "lakehouse-dev"), "cluster", "down"], env, timeout=300)
        config = _config(home)
        leftovers = cluster.cluster_processes(config)
        assert down.returncode == 0, down.stdout + down.stderr
        assert leftovers == [], f"processes left behind: {[p.cmdline()[:3] for p in leftovers]}"


def _config(home: Path) -> cluster.ClusterConfig:
    """The cluster's layout and ports as the subprocesses see them (this process has another home)."""
    return cluster.ClusterConfig(settings=replace(Settings.from_env(), home=home))


@pytest.fixture(scope="module")
def cluster_run(cluster_home: Path) -> dict[str, object]:
    target = cluster_home / "target-cluster"
    done = _run([str(BIN / "lakehouse-dev"), "run", "--target", "cluster"], _env(cluster_home, target))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary: dict[str, object] = json.loads((target / "run_summary.json").read_text())
    summary["_stdout"] = done.stdout
    return summary


@pytest.fixture(scope="module")
def local_counts(local_run: tuple[Path, subprocess.Popen[str]]) -> dict[str, int]:
    home, process = local_run
    output, _ = process.communicate(timeout=BUILD_TIMEOUT)
    assert process.returncode == 0, output[-4000:]
    return _file_counts(home / "warehouse", _table_models(home / "target-local"))


def test_cluster_run_uses_the_workers(cluster_run: dict[str, object]) -> None:
    assert cluster_run["spark_master"] == "spark://127.0.0.1:7077"
    assert str(cluster_run["application_id"]).startswith("app-")
    assert cluster_run["executors"] == 2
    assert f"application {cluster_run['application_id']}" in str(cluster_run["_stdout"])
    assert "2 executors" in str(cluster_run["_stdout"])


def test_cluster_run_matches_local_row_counts(
    cluster_home: Path, cluster_run: dict[str, object], local_counts: dict[str, int]
) -> None:
    tables = _table_models(cluster_home / "target-cluster")
    assert set(tables) == set(local_counts)
    through_thrift = _thrift_counts(_config(cluster_home), tables)
    assert through_thrift == local_counts
    assert sum(local_counts.values()) > 0


def test_thrift_target_builds_sql_models_with_local_row_counts(
    cluster_home: Path, cluster_run: dict[str, object], local_counts: dict[str, int]
) -> None:
    target = cluster_home / "target-thrift"
    # the cluster run already loaded seeds and bronze and ran the data tests; the SQL models are
    # rebuilt from them through the Thrift server (tests again would double the time on two cores)
    done = _run(
        [str(BIN / "dbt"), "run", "--target", "thrift", "--exclude", "path:python_models"],
        _env(cluster_home, target),
    )
    assert done.returncode == 0, done.stdout[-4000:]
    sql_tables = {
        uid: table for uid, table in _table_models(target, language="sql").items() if uid.startswith("model.")
    }
    results = json.loads((target / "run_results.json").read_text())["results"]
    built = {r["unique_id"] for r in results if r["status"] == "success"}
    assert set(sql_tables) <= built
    counts = _thrift_counts(_config(cluster_home), sql_tables)
    assert counts == {uid: local_counts[uid] for uid in sql_tables}


def test_python_models_on_thrift_fail_with_a_clear_message(
    cluster_home: Path, cluster_run: dict[str, object]
) -> None:
    target = cluster_home / "target-thrift-python"
    done = _run(
        [str(BIN / "dbt"), "run", "--target", "thrift", "--select", "path:python_models"],
        _env(cluster_home, target),
    )
    assert done.returncode != 0
    assert "needs a session target (`method: session`)" in done.stdout


def test_beeline_queries_a_mart(
    cluster_home: Path, cluster_run: dict[str, object], local_counts: dict[str, int]
) -> None:
    config = _config(cluster_home)
    marts = {
        uid: table
        for uid, table in _table_models(cluster_home / "target-cluster").items()
        if table[0] == "marts"
    }
    uid, (schema, name) = sorted(marts.items())[0]
    beeline = cluster.spark_home() / "bin" / "beeline"
    query = f"select count(*) as n from `{schema}`.`{name}`"
    done = _run(
        [str(beeline), "-u", config.thrift_jdbc_url, "-n", "test", "--outputformat=tsv2", "-e", query],
        _env(cluster_home, cluster_home / "target-beeline"),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    # beeline prefixes the header with its prompt when reading a query from -e
    assert lines[-2].endswith("n")
    assert lines[-1] == str(local_counts[uid])
