"""Table-format resolution: explicit choices, local jars, fallback with one warning, clear errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from lakehouse import table_format
from lakehouse.config import Settings
from lakehouse.errors import LakehouseError

UNREACHABLE = "http://127.0.0.1:9"  # discard port: nothing listens, connection refused at once


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    table_format.resolve.cache_clear()
    monkeypatch.setenv("HOME", str(tmp_path))  # no Ivy cache from the developer's machine
    monkeypatch.delenv(table_format.ENV_RESOLVED, raising=False)
    for name in ("LAKEHOUSE_DELTA_JARS_DIR", "LAKEHOUSE_TABLE_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LAKEHOUSE_DELTA_REPOSITORY", UNREACHABLE)


def test_parquet_is_forced_without_probing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_TABLE_FORMAT", "parquet")
    fmt = table_format.resolve(Settings.from_env())
    assert fmt.name == "parquet"
    assert fmt.spark_conf == {}
    assert table_format.os.environ[table_format.ENV_RESOLVED] == "parquet"


def test_auto_falls_back_to_parquet_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        first = table_format.resolve(Settings.from_env())
        second = table_format.resolve(Settings.from_env())
    assert first.name == second.name == "parquet"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "LAKEHOUSE_DELTA_JARS_DIR" in warnings[0].getMessage()


def test_delta_requested_but_unavailable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_TABLE_FORMAT", "delta")
    with pytest.raises(LakehouseError, match="Delta connector cannot be loaded") as error:
        table_format.resolve(Settings.from_env())
    assert "\n" not in str(error.value)


def test_local_jars_dir_enables_delta(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    jars = tmp_path / "jars"
    jars.mkdir()
    for name in ("delta-spark_4.1_2.13-4.4.1.jar", "delta-storage-4.4.1.jar", "unrelated.jar"):
        (jars / name).write_bytes(b"")
    monkeypatch.setenv("LAKEHOUSE_DELTA_JARS_DIR", str(jars))
    fmt = table_format.resolve(Settings.from_env())
    assert fmt.is_delta
    loaded = fmt.spark_conf["spark.jars"].split(",")
    assert sorted(Path(j).name for j in loaded) == [
        "delta-spark_4.1_2.13-4.4.1.jar",
        "delta-storage-4.4.1.jar",
    ]
    assert fmt.spark_conf["spark.sql.catalog.spark_catalog"].endswith("DeltaCatalog")


def test_empty_jars_dir_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAKEHOUSE_DELTA_JARS_DIR", str(tmp_path))
    with pytest.raises(LakehouseError, match="holds no delta"):
        table_format.resolve(Settings.from_env())


def test_reachable_repository_uses_packages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAKEHOUSE_DELTA_REPOSITORY", tmp_path.as_uri())  # a file:// mirror
    fmt = table_format.resolve(Settings.from_env())
    assert fmt.is_delta
    assert fmt.spark_conf["spark.jars.packages"] == table_format.delta_coordinate()
    assert fmt.spark_conf["spark.jars.repositories"] == tmp_path.as_uri()


def test_coordinate_matches_installed_pyspark_and_delta() -> None:
    group, artifact, version = table_format.delta_coordinate().split(":")
    assert group == "io.delta"
    assert artifact.startswith("delta-spark_4.1_")
    assert version == table_format.version("delta-spark")


def test_unknown_format_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_TABLE_FORMAT", "orc")
    with pytest.raises(LakehouseError, match="not one of auto, delta, parquet"):
        Settings.from_env()
