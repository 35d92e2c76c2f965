"""Choose the table format (Delta Lake or Parquet) before Spark or dbt start.

dbt renders `file_format` while it parses the project, before any Spark session exists, so the
choice is made here without a JVM and exported as `LAKEHOUSE_FILE_FORMAT` for every later step.
Delta needs its connector jars; they come from (in order) a local jars directory, the Ivy cache
of an earlier download, or a Maven repository that answers.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlparse

from lakehouse.config import Settings
from lakehouse.errors import LakehouseError

log = logging.getLogger(__name__)

ENV_RESOLVED = "LAKEHOUSE_FILE_FORMAT"
DEFAULT_REPOSITORY = "https://repo1.maven.org/maven2"
HOW_TO_GET_DELTA = (
    "to use Delta, let Spark reach Maven (or set LAKEHOUSE_DELTA_REPOSITORY to a mirror), "
    "or put the delta-spark and delta-storage jars in a directory named by LAKEHOUSE_DELTA_JARS_DIR"
)


@dataclass(frozen=True)
class TableFormat:
    """The resolved format and the Spark settings that load it."""

    name: str
    reason: str
    spark_conf: dict[str, str] = field(default_factory=dict)

    @property
    def is_delta(self) -> bool:
        return self.name == "delta"


def delta_coordinate() -> str:
    """Maven coordinate of the Delta connector matching the installed pyspark and delta-spark."""
    spark_minor = ".".join(version("pyspark").split(".")[:2])
    return f"io.delta:delta-spark_{spark_minor}_2.13:{version('delta-spark')}"


def _delta_conf(extra: dict[str, str]) -> dict[str, str]:
    return {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        **extra,
    }


def _local_jars(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.jar") if p.name.startswith("delta-"))


def _ivy_cached_jars() -> list[Path]:
    artifact = delta_coordinate().split(":")[1]
    for ivy in (Path.home() / ".ivy2.5.2" / "jars", Path.home() / ".ivy2" / "jars"):
        if any(ivy.glob(f"io.delta_{artifact}-*.jar")):
            return sorted(ivy.glob("*.jar"))
    return []


def repository_reachable(url: str, timeout: float = 3.0) -> bool:
    """True when a TCP connection to the repository's host opens within `timeout` seconds."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(parsed.path).is_dir()
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def _find_delta(settings: Settings) -> TableFormat | None:
    if settings.delta_jars_dir is not None:
        jars = _local_jars(settings.delta_jars_dir)
        if not jars:
            raise LakehouseError(
                f"LAKEHOUSE_DELTA_JARS_DIR={settings.delta_jars_dir} holds no delta-*.jar files"
            )
        conf = {"spark.jars": ",".join(str(j) for j in jars)}
        return TableFormat("delta", f"Delta connector from {settings.delta_jars_dir}", _delta_conf(conf))
    cached = _ivy_cached_jars()
    if cached:
        conf = {"spark.jars": ",".join(str(j) for j in cached)}
        return TableFormat("delta", "Delta connector from the Ivy cache", _delta_conf(conf))
    repository = settings.delta_repository or DEFAULT_REPOSITORY
    if repository_reachable(repository):
        conf = {"spark.jars.packages": delta_coordinate()}
        if settings.delta_repository:
            conf["spark.jars.repositories"] = settings.delta_repository
        return TableFormat(
            "delta", f"Delta connector {delta_coordinate()} from {repository}", _delta_conf(conf)
        )
    return None


@functools.cache
def resolve(settings: Settings) -> TableFormat:
    """Decide the table format once per process and export it for dbt and child processes."""
    if settings.table_format == "parquet":
        chosen = TableFormat("parquet", "LAKEHOUSE_TABLE_FORMAT=parquet")
    else:
        found = _find_delta(settings)
        if found is not None:
            chosen = found
        elif settings.table_format == "delta":
            raise LakehouseError(
                f"LAKEHOUSE_TABLE_FORMAT=delta but the Delta connector cannot be loaded: "
                f"no local jars and {settings.delta_repository or DEFAULT_REPOSITORY} is unreachable; "
                f"{HOW_TO_GET_DELTA}"
            )
        else:
            chosen = TableFormat(
                "parquet",
                "Delta connector unavailable (no local jars, Maven unreachable); "
                f"falling back to Parquet. {HOW_TO_GET_DELTA}",
            )
            if os.environ.get(ENV_RESOLVED) != "parquet":
                log.warning(chosen.reason)
    os.environ[ENV_RESOLVED] = chosen.name
    return chosen
