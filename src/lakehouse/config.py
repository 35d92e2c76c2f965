"""Project settings, read once from environment variables.

Every path is absolute: Spark, Derby and dbt otherwise resolve relative paths against whatever
directory a process happens to start in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lakehouse.errors import LakehouseError

TABLE_FORMATS = ("auto", "delta", "parquet")


def project_dir() -> Path:
    """The dbt project root: `LAKEHOUSE_PROJECT_DIR`, else the checkout this package lives in."""
    explicit = os.environ.get("LAKEHOUSE_PROJECT_DIR")
    if explicit:
        return Path(explicit).resolve()
    here = Path(__file__).resolve().parents[2]
    if (here / "dbt_project.yml").exists():
        return here
    return Path.cwd().resolve()


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Where state lives and how Spark is started. Build with `Settings.from_env()`."""

    home: Path
    table_format: str
    master: str
    driver_memory: str
    shuffle_partitions: int
    ui: bool
    delta_jars_dir: Path | None
    # a metastore shared by several processes (`thrift://host:9083` or a `jdbc:` URL); None = embedded Derby
    metastore_url: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("LAKEHOUSE_HOME") or project_dir() / ".lakehouse").resolve()
        table_format = os.environ.get("LAKEHOUSE_TABLE_FORMAT", "auto").strip().lower()
        if table_format not in TABLE_FORMATS:
            raise LakehouseError(
                f"LAKEHOUSE_TABLE_FORMAT={table_format!r} is not one of {', '.join(TABLE_FORMATS)}"
            )
        cores = os.cpu_count() or 2
        partitions = os.environ.get("LAKEHOUSE_SHUFFLE_PARTITIONS") or str(2 * cores)
        if not partitions.isdigit() or int(partitions) < 1:
            raise LakehouseError(f"LAKEHOUSE_SHUFFLE_PARTITIONS={partitions!r} must be a positive integer")
        jars = os.environ.get("LAKEHOUSE_DELTA_JARS_DIR")
        return cls(
            home=home,
            table_format=table_format,
            master=os.environ.get("LAKEHOUSE_SPARK_MASTER") or "local[*]",
            driver_memory=os.environ.get("LAKEHOUSE_DRIVER_MEMORY") or "4g",
            shuffle_partitions=int(partitions),
            ui=_flag("LAKEHOUSE_SPARK_UI"),
            delta_jars_dir=Path(jars).resolve() if jars else None,
            metastore_url=os.environ.get("LAKEHOUSE_METASTORE_URL") or None,
        )

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def metastore_dir(self) -> Path:
        return self.home / "metastore_db"

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def checkpoint_dir(self) -> Path:
        return self.home / "checkpoints"
