"""Table-format resolution: explicit choices, the connector from `make setup`, fallback with one
warning, clear errors. Nothing here reaches a network: runs only ever use installed jars."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from lakehouse import connectors, table_format
from lakehouse.config import Settings
from lakehouse.errors import LakehouseError


@pytest.fixture(autouse=True)
def jars_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No connector installed: `.jars` is an empty directory of the test's own."""
    table_format.resolve.cache_clear()
    monkeypatch.delenv(table_format.ENV_RESOLVED, raising=False)
    for name in ("LAKEHOUSE_DELTA_JARS_DIR", "LAKEHOUSE_TABLE_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / ".jars"
    monkeypatch.setattr(connectors, "jars_root", lambda: root)
    yield root
    table_format.resolve.cache_clear()


def install(root: Path, coordinate: str, jar_names: list[str]) -> Path:
    folder = root / "delta"
    folder.mkdir(parents=True)
    for name in jar_names:
        (folder / name).write_bytes(b"")
    (folder / connectors.MANIFEST).write_text(json.dumps({"coordinate": coordinate, "jars": jar_names}))
    return folder


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
    message = warnings[0].getMessage()
    assert "make setup" in message
    assert connectors.delta_coordinate() in message


def test_delta_requested_but_not_installed_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_TABLE_FORMAT", "delta")
    with pytest.raises(LakehouseError, match="is not installed; to use Delta, run `make setup`") as error:
        table_format.resolve(Settings.from_env())
    assert "\n" not in str(error.value)


def test_the_connector_from_setup_enables_delta_with_its_jars_only(jars_root: Path) -> None:
    names = ["io.delta_delta-spark_4.1_2.13-4.4.0.jar", "io.delta_delta-storage-4.4.0.jar"]
    folder = install(jars_root, connectors.delta_coordinate(), names)
    (folder / "left-over.jar").write_bytes(b"")  # not in the manifest: not loaded
    fmt = table_format.resolve(Settings.from_env())
    assert fmt.is_delta
    assert fmt.spark_conf["spark.jars"].split(",") == [str(folder / n) for n in names]
    assert fmt.spark_conf["spark.sql.catalog.spark_catalog"].endswith("DeltaCatalog")
    assert "spark.jars.packages" not in fmt.spark_conf  # runs never resolve from a network


def test_jars_of_another_version_are_stale_and_ignored(
    jars_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(jars_root, "io.delta:delta-spark_4.0_2.13:4.0.0", ["io.delta_delta-spark_4.0_2.13-4.0.0.jar"])
    assert connectors.installed_jars("delta") is None
    monkeypatch.setenv("LAKEHOUSE_TABLE_FORMAT", "delta")
    with pytest.raises(LakehouseError, match="not installed"):
        table_format.resolve(Settings.from_env())


def test_a_jar_listed_but_missing_makes_the_connector_not_installed(jars_root: Path) -> None:
    folder = install(jars_root, connectors.delta_coordinate(), ["a.jar", "b.jar"])
    (folder / "b.jar").unlink()
    assert connectors.installed_jars("delta") is None
    assert table_format.resolve(Settings.from_env()).name == "parquet"


def test_local_jars_dir_enables_delta(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    jars = tmp_path / "jars"
    jars.mkdir()
    for name in ("delta-spark_4.1_2.13-4.4.0.jar", "delta-storage-4.4.0.jar"):
        (jars / name).write_bytes(b"")
    monkeypatch.setenv("LAKEHOUSE_DELTA_JARS_DIR", str(jars))
    fmt = table_format.resolve(Settings.from_env())
    assert fmt.is_delta
    loaded = fmt.spark_conf["spark.jars"].split(",")
    assert sorted(Path(j).name for j in loaded) == [
        "delta-spark_4.1_2.13-4.4.0.jar",
        "delta-storage-4.4.0.jar",
    ]


def test_jars_dir_without_delta_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "unrelated-1.0.jar").write_bytes(b"")
    monkeypatch.setenv("LAKEHOUSE_DELTA_JARS_DIR", str(tmp_path))
    with pytest.raises(LakehouseError, match="holds no delta-spark jar"):
        table_format.resolve(Settings.from_env())


def test_delta_sizes_its_log_replay_and_listing_to_the_shuffle_partitions(
    jars_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(jars_root, connectors.delta_coordinate(), ["io.delta_delta-spark_4.1_2.13-4.4.0.jar"])
    monkeypatch.setenv("LAKEHOUSE_SHUFFLE_PARTITIONS", "3")
    conf = table_format.resolve(Settings.from_env()).spark_conf
    assert conf["spark.databricks.delta.snapshotPartitions"] == "3"
    assert conf["spark.sql.sources.parallelPartitionDiscovery.parallelism"] == "3"


def test_unknown_format_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_TABLE_FORMAT", "orc")
    with pytest.raises(LakehouseError, match="not one of auto, delta, parquet"):
        Settings.from_env()
