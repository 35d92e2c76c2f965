"""What happens before the JVM starts: Java checks, the Derby lock, one-line errors from the CLI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from lakehouse import spark as spark_factory
from lakehouse.config import Settings
from lakehouse.errors import LakehouseError


def fake_java_home(tmp_path: Path, version_line: str) -> Path:
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return home


@pytest.mark.parametrize(
    ("line", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_392"', 8),
    ],
)
def test_java_version_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, major: int
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(fake_java_home(tmp_path, line)))
    assert spark_factory.java_major_version() == major


def test_old_java_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(fake_java_home(tmp_path, 'openjdk version "11.0.2" 2019-01-15')))
    with pytest.raises(LakehouseError, match="Java 11 found, but Spark 4 needs Java 17"):
        spark_factory.check_java()


def test_missing_java_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nowhere"))
    with pytest.raises(LakehouseError, match="Java not found"):
        spark_factory.check_java()


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lakehouse.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_reports_old_java_in_one_line(tmp_path: Path) -> None:
    home = fake_java_home(tmp_path, 'openjdk version "11.0.2" 2019-01-15')
    result = run_cli(["run"], {"JAVA_HOME": str(home), "LAKEHOUSE_HOME": str(tmp_path / "state")})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: Java 11 found")
    assert "Traceback" not in result.stderr
    assert "at org.apache" not in result.stderr


@pytest.mark.spark
def test_second_process_on_the_same_metastore_gets_one_line(spark: SparkSession, tmp_path: Path) -> None:
    spark.sql("show databases").collect()  # Derby boots lazily: make sure this JVM holds it
    settings = Settings.from_env()
    assert (settings.metastore_dir / "dbex.lck").exists()
    with pytest.raises(LakehouseError, match="in use by another Spark process"):
        spark_factory.check_metastore_free(settings.metastore_dir, wait_seconds=0)
    env = {
        "LAKEHOUSE_HOME": str(settings.home),
        "DBT_TARGET_PATH": str(tmp_path),
        "LAKEHOUSE_METASTORE_WAIT": "2",
    }
    result = run_cli(["run"], env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert f"waiting up to 2 s for the Derby metastore {settings.metastore_dir}" in lines[0]
    assert lines[-1].startswith("error: the Derby metastore")
    assert "in use by another Spark process" in lines[-1]
    assert "Traceback" not in result.stderr
    assert "XSDB6" not in result.stderr


@pytest.mark.spark
def test_chained_commands_find_the_metastore_free(tmp_path: Path) -> None:
    """`lakehouse ingest && lakehouse ingest`: the first command's JVM has exited, and released the
    metastore, by the time the command returns, so the second starts at once instead of failing."""
    env = {"LAKEHOUSE_HOME": str(tmp_path / "state"), "DBT_TARGET_PATH": str(tmp_path / "target")}
    first = run_cli(["ingest"], env)
    assert first.returncode == 0, first.stderr
    assert not spark_factory.metastore_in_use(tmp_path / "state" / "metastore_db")
    second = run_cli(["ingest"], {**env, "LAKEHOUSE_METASTORE_WAIT": "0"})
    assert second.returncode == 0, second.stderr
    assert "waiting" not in second.stderr


def test_free_metastore_passes(tmp_path: Path) -> None:
    (tmp_path / "dbex.lck").write_bytes(b"")  # a stale lock file left by a crashed JVM
    assert not spark_factory.metastore_in_use(tmp_path)
    spark_factory.check_metastore_free(tmp_path, wait_seconds=0)


@pytest.mark.spark
def test_session_has_the_documented_settings(spark: SparkSession) -> None:
    conf = spark.conf
    settings = Settings.from_env()
    assert conf.get("spark.sql.shuffle.partitions") == str(settings.shuffle_partitions)
    assert conf.get("spark.sql.adaptive.enabled") == "true"
    assert conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"
    assert conf.get("spark.sql.session.timeZone") == "UTC"
    assert Path(conf.get("spark.sql.warehouse.dir").removeprefix("file:")) == settings.warehouse_dir
    assert spark.sparkContext.getConf().get("spark.ui.enabled") == "false"
    assert spark_factory.get_spark() is spark  # one session per process


def test_event_ids_are_written_without_a_parquet_dictionary(spark: SparkSession, tmp_path: Path) -> None:
    """Few distinct values, so Parquet would keep a dictionary for both columns: only the session
    setting turns it off for the event id column, in every table the session writes."""
    import pyarrow.parquet as pq

    id_column = spark_factory.UNIQUE_PER_ROW_COLUMN
    spark.range(1000).selectExpr(
        f"cast(id % 3 as string) as {id_column}", "cast(id % 3 as string) as event_type"
    ).coalesce(1).write.parquet(str(tmp_path / "events"))
    (written,) = (tmp_path / "events").glob("part-*.parquet")
    columns = pq.ParquetFile(written).metadata.row_group(0)
    has_dictionary = {
        columns.column(i).path_in_schema: columns.column(i).dictionary_page_offset is not None
        for i in range(columns.num_columns)
    }
    assert has_dictionary == {id_column: False, "event_type": True}


def test_a_failed_query_is_not_logged_again_with_the_java_stack(
    spark: SparkSession, capfd: pytest.CaptureFixture[str]
) -> None:
    from pyspark.errors import AnalysisException

    with pytest.raises(AnalysisException, match="no_such_column"):
        spark.sql("select no_such_column from range(1)")
    err = capfd.readouterr().err
    assert "SQLQueryContextLogger" not in err
    assert "at org.apache.spark" not in err
