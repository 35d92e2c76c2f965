"""Choose the table format (Delta Lake or Parquet) before Spark or dbt start.

dbt renders `file_format` while it parses the project, before any Spark session exists, so the
choice is made here without a JVM and exported as `LAKEHOUSE_FILE_FORMAT` for every later step.
Delta needs its connector jars, fetched and verified once by `make setup` (`lakehouse.connectors`)
or named by `LAKEHOUSE_DELTA_JARS_DIR`; a run never downloads anything.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from lakehouse import connectors
from lakehouse.config import Settings
from lakehouse.errors import LakehouseError

log = logging.getLogger(__name__)

ENV_RESOLVED = "LAKEHOUSE_FILE_FORMAT"
HOW_TO_GET_DELTA = (
    "to use Delta, run `make setup` where Maven Central (or the mirror in LAKEHOUSE_MAVEN_REPOSITORY) "
    "is reachable, or put the connector's jars in a directory named by LAKEHOUSE_DELTA_JARS_DIR"
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


def delta_conf(jars: list[Path], settings: Settings) -> dict[str, str]:
    parallelism = str(settings.shuffle_partitions)
    return {
        "spark.jars": ",".join(str(j) for j in jars),
        **connectors.DELTA_SPARK_CONF,
        # Delta rebuilds a table's state from its log with 50 tasks and lists files for VACUUM
        # with 10,000 (defaults sized for clusters): on a few cores each is mostly task overhead
        "spark.databricks.delta.snapshotPartitions": parallelism,
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": parallelism,
    }


def _find_delta(settings: Settings) -> TableFormat | None:
    if settings.delta_jars_dir is not None:
        jars = sorted(settings.delta_jars_dir.glob("*.jar"))
        if not any(jar.name.startswith(("delta-spark", "io.delta_delta-spark")) for jar in jars):
            raise LakehouseError(
                f"LAKEHOUSE_DELTA_JARS_DIR={settings.delta_jars_dir} holds no delta-spark jar"
            )
        return TableFormat(
            "delta", f"Delta connector from {settings.delta_jars_dir}", delta_conf(jars, settings)
        )
    installed = connectors.installed_jars("delta")
    if installed is None:
        return None
    reason = f"Delta connector {connectors.delta_coordinate()} ({len(installed)} jars from `make setup`)"
    return TableFormat("delta", reason, delta_conf(installed, settings))


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
                f"LAKEHOUSE_TABLE_FORMAT=delta but the Delta connector "
                f"{connectors.delta_coordinate()} is not installed; {HOW_TO_GET_DELTA}"
            )
        else:
            chosen = TableFormat(
                "parquet",
                f"Delta connector {connectors.delta_coordinate()} not installed; falling back to "
                f"Parquet ({HOW_TO_GET_DELTA})",
            )
            if os.environ.get(ENV_RESOLVED) != "parquet":
                log.warning(chosen.reason)
    os.environ[ENV_RESOLVED] = chosen.name
    return chosen
