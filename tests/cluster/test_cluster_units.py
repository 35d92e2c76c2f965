"""The cluster's settings and process bookkeeping, without Spark (fast; part of `make test`)."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from lakehouse import table_format
from lakehouse.config import Settings
from lakehouse.errors import LakehouseError
from lakehouse.spark import session_conf
from lakehouse_dev import cluster


def _config(home: Path) -> cluster.ClusterConfig:
    return cluster.ClusterConfig(settings=replace(Settings.from_env(), home=home))


def _megabytes(size: str) -> int:
    return int(size[:-1]) * (1024 if size.endswith("g") else 1)


def test_thrift_metastore_url_replaces_embedded_derby(tmp_path: Path) -> None:
    settings = replace(Settings.from_env(), home=tmp_path, metastore_url="thrift://127.0.0.1:9083")
    conf = session_conf(settings, table_format.TableFormat("parquet", "test"))
    assert conf["spark.hadoop.hive.metastore.uris"] == "thrift://127.0.0.1:9083"


def test_jdbc_metastore_url_replaces_the_derby_connection(tmp_path: Path) -> None:
    url = "jdbc:postgresql://db:5432/metastore"
    settings = replace(Settings.from_env(), home=tmp_path, metastore_url=url)
    conf = session_conf(settings, table_format.TableFormat("parquet", "test"))
    assert conf["spark.hadoop.javax.jdo.option.ConnectionURL"] == url
    assert "spark.hadoop.hive.metastore.uris" not in conf


def test_other_metastore_urls_are_refused(tmp_path: Path) -> None:
    settings = replace(Settings.from_env(), home=tmp_path, metastore_url="mysql://db/metastore")
    with pytest.raises(LakehouseError, match="LAKEHOUSE_METASTORE_URL"):
        session_conf(settings, table_format.TableFormat("parquet", "test"))


def test_thrift_server_and_a_pipeline_run_fit_on_the_workers(tmp_path: Path) -> None:
    config = _config(tmp_path)
    apps = 2  # the Thrift server and one pipeline run at the same time
    cores_per_app = int(cluster.EXECUTOR_DEFAULTS["spark.cores.max"])
    executors_per_app = cores_per_app // int(cluster.EXECUTOR_DEFAULTS["spark.executor.cores"])
    assert apps * cores_per_app <= config.workers * config.worker_cores
    # standalone spreads an app's executors over the workers: one per worker and app here
    per_worker = apps * max(1, executors_per_app // config.workers)
    executor_mb = _megabytes(cluster.EXECUTOR_DEFAULTS["spark.executor.memory"])
    assert per_worker * executor_mb <= _megabytes(config.worker_memory)


def test_daemons_listen_on_loopback_only(tmp_path: Path) -> None:
    config = _config(tmp_path)
    commands = {s.name: s.command for s in cluster.services(config, thrift=True)}
    assert commands["master"][commands["master"].index("--host") + 1] == "127.0.0.1"
    assert commands["worker-1"][-1] == "spark://127.0.0.1:7077"
    assert "hive.server2.thrift.bind.host=127.0.0.1" in commands["thrift"]
    thrift_conf = dict(
        arg.split("=", 1) for arg in commands["thrift"] if "=" in arg and arg.startswith("spark.")
    )
    assert thrift_conf["spark.master"] == config.master_url
    assert thrift_conf["spark.hadoop.hive.metastore.uris"] == config.metastore_url
    assert thrift_conf["spark.sql.warehouse.dir"] == str(tmp_path / "warehouse")


def test_run_on_cluster_fails_in_one_line_when_it_is_not_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAKEHOUSE_SPARK_MASTER", raising=False)
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path))
    monkeypatch.setenv("LAKEHOUSE_CLUSTER_MASTER_PORT", "1")  # nothing listens on port 1
    monkeypatch.setenv("LAKEHOUSE_METASTORE_PORT", "2")
    with pytest.raises(LakehouseError, match="make cluster-up"):
        cluster.use_cluster()


def test_down_stops_a_daemon_with_its_children(tmp_path: Path) -> None:
    config = _config(tmp_path)
    for sub in ("logs", "run"):
        (config.state_dir / sub).mkdir(parents=True)
    # a stand-in daemon that forks a child, as a worker forks executors
    child = "import time; time.sleep(600)"
    script = (
        f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(600)"
    )
    daemon = cluster.Service("master", "FakeMaster", [sys.executable, "-c", script, "FakeMaster"])
    launched = cluster.launch(config, daemon)
    assert launched is not None
    assert cluster.launch(config, daemon) is None  # idempotent: already running
    pid = launched.process.pid
    deadline = time.monotonic() + 30
    while len([p for p in psutil.process_iter() if _pgid(p) == pid]) < 2:  # the daemon and its child
        assert time.monotonic() < deadline, "the stand-in daemon did not fork its child"
        time.sleep(0.2)
    messages = cluster.down(config, grace=10)
    launched.process.wait(timeout=10)
    assert messages[0] == f"master: stopped (pid {pid})"
    assert [p for p in psutil.process_iter() if _pgid(p) == pid and p.status() != psutil.STATUS_ZOMBIE] == []
    assert not cluster.pid_file(config, "master").exists()
    assert cluster.down(config) == ["cluster: not running"]


def _pgid(process: psutil.Process) -> int | None:
    import os

    try:
        return os.getpgid(process.pid)
    except ProcessLookupError:
        return None
