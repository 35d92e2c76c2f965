"""The PII salt: validated, kept out of SQL, and refused where real data is hashed with the default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lakehouse import pii
from lakehouse.errors import LakehouseError
from lakehouse_dev import cluster


@pytest.fixture
def dev_salt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pii.ENV)


@pytest.mark.usefixtures("dev_salt")
def test_an_unset_salt_is_the_development_default() -> None:
    assert pii.salt() == pii.DEV_SALT
    assert pii.uses_dev_salt()


@pytest.mark.parametrize("bad", ["it's", 'a"b', "a\\b", "${x}", "two\nlines"])
def test_a_salt_that_would_break_the_sql_literal_is_refused(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv(pii.ENV, bad)
    with pytest.raises(LakehouseError, match="may not contain quotes"):
        pii.salt()


@pytest.mark.usefixtures("dev_salt")
def test_the_thrift_server_refuses_the_development_salt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path))
    with pytest.raises(LakehouseError, match="the Thrift server refuses the development PII salt"):
        cluster.up(cluster.ClusterConfig.from_env(), thrift=True)
    assert not (tmp_path / "cluster").exists()  # refused before anything started


def test_a_cluster_run_refuses_the_development_salt_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != pii.ENV}
    env.update(LAKEHOUSE_HOME=str(tmp_path), LAKEHOUSE_SPARK_MASTER="spark://127.0.0.1:1")
    done = subprocess.run(
        [sys.executable, "-m", "lakehouse.cli", "ingest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: Spark on spark://127.0.0.1:1 refuses the development PII salt: export LAKEHOUSE_PII_SALT "
        "(e.g. `openssl rand -hex 32`; the same value for every run, or hashes stop matching)"
    )
