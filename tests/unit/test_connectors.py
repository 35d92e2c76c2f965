"""Connector jars fetched at setup: which jars are kept, the coordinate, and the checks that stop a
broken or mismatched connector from being installed."""

from __future__ import annotations

import shutil
from importlib.metadata import version
from pathlib import Path

import pytest

from lakehouse import connectors
from lakehouse.errors import LakehouseError

UNREACHABLE = "http://127.0.0.1:9"  # discard port: nothing listens, connection refused at once


def test_coordinate_matches_installed_pyspark_and_delta() -> None:
    group, artifact, delta_version = connectors.delta_coordinate().split(":")
    spark_minor = ".".join(version("pyspark").split(".")[:2])
    assert (group, artifact, delta_version) == (
        "io.delta",
        f"delta-spark_{spark_minor}_2.13",
        version("delta-spark"),
    )


@pytest.mark.parametrize(
    ("jar", "from_ivy", "artifact"),
    [
        ("io.delta_delta-spark_4.1_2.13-4.4.0.jar", True, "delta-spark_4.1_2.13"),
        ("com.github.luben_zstd-jni-1.5.7-3.jar", True, "zstd-jni"),
        ("org.apache.hadoop_hadoop-client-api-3.4.2.jar", True, "hadoop-client-api"),
        ("zstd-jni-1.5.7-6.jar", False, "zstd-jni"),
        ("jackson-module-scala_2.13-2.21.2.jar", False, "jackson-module-scala_2.13"),
    ],
)
def test_artifact_names_from_ivy_and_pyspark_jar_names(jar: str, from_ivy: bool, artifact: str) -> None:
    assert connectors.artifact_of(jar, from_ivy) == artifact


def test_jars_pyspark_ships_are_dropped_whatever_their_version() -> None:
    shipped = connectors.pyspark_artifacts()
    assert {"hadoop-client-api", "jackson-databind", "jackson-module-scala_2.13", "scala-library"} <= shipped
    resolved = [
        Path(name)
        for name in (
            "io.delta_delta-spark_4.1_2.13-4.4.0.jar",
            "io.delta_delta-storage-4.4.0.jar",
            "com.fasterxml.jackson.core_jackson-databind-2.13.5.jar",  # Spark has 2.21
            "org.apache.hadoop_hadoop-client-runtime-3.4.2.jar",
        )
    ]
    kept = connectors.jars_to_keep(resolved, shipped)
    assert [jar.name for jar in kept] == [
        "io.delta_delta-spark_4.1_2.13-4.4.0.jar",
        "io.delta_delta-storage-4.4.0.jar",
    ]


def test_ivy_settings_name_one_repository() -> None:
    settings = connectors.ivy_settings("https://mirror.example/maven")
    assert 'root="https://mirror.example/maven/"' in settings
    assert settings.count("<ibiblio") == 1


def test_unreachable_repository_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(connectors, "jars_root", lambda: tmp_path)
    monkeypatch.setenv(connectors.REPOSITORY_ENV, UNREACHABLE)
    with pytest.raises(
        connectors.RepositoryUnreachableError, match=r"127\.0\.0\.1:9 is unreachable"
    ) as error:
        connectors.fetch("delta")
    assert "\n" not in str(error.value)
    assert not (tmp_path / "delta").exists()


def test_setup_with_an_unreachable_repository_says_so_and_succeeds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lakehouse.cli import main

    monkeypatch.setattr(connectors, "jars_root", lambda: tmp_path)
    monkeypatch.setenv(connectors.REPOSITORY_ENV, UNREACHABLE)
    assert main(["connectors", "fetch", "--optional", "delta"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert "not fetched" in out[0]
    assert "fall back to Parquet" in out[0]
    assert main(["connectors", "fetch", "delta"]) == 2  # without --optional it is an error


@pytest.mark.spark
def test_verification_rejects_an_incomplete_connector(tmp_path: Path) -> None:
    """The installed jars pass the smoke test in a fresh JVM; without delta-storage they fail it at
    class loading, and the error is the Java class that was missing, on one line."""
    installed = connectors.installed_jars("delta")
    if installed is None:
        pytest.skip("the Delta connector is not installed (make setup could not reach Maven)")
    for jar in installed:
        if "delta-storage" not in jar.name:
            shutil.copy2(jar, tmp_path / jar.name)
    with pytest.raises(
        LakehouseError, match=r"verifying failed: java\.lang\.ClassNotFoundException: io\.delta\.storage\."
    ) as error:
        connectors._run_python(["_verify", "delta", str(tmp_path)], "verifying")
    assert "\n" not in str(error.value)
    connectors._run_python(["_verify", "delta", str(installed[0].parent)], "verifying")
