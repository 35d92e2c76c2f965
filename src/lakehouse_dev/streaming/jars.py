"""The Kafka broker, Kafka Connect and Debezium's PostgreSQL connector, fetched once at setup.

All three come from Maven Central, resolved by Ivy (`lakehouse.ivy`: they run in JVMs of their own,
so they keep every dependency, `scala-library` included, which spark-submit's resolver would drop):

* `.jars/kafka-broker/`: `kafka_2.13`, `kafka-tools` and the Connect runtime with JSON converters,
  plus a logging backend (log4j2 and its slf4j 2 binding); one classpath serves broker, tools and
  Connect, as the `libs/` folder of Kafka's tarball does;
* `.jars/debezium-postgres/`: Debezium's own plugin tarball
  (`io.debezium:debezium-connector-postgres:<version>:tar.gz:plugin`), unpacked for `plugin.path`.

Each is checked before it is kept: the broker's classpath runs a Kafka tool in a fresh JVM with a
working logger, the plugin holds the connector's jar. A `manifest.json` records versions and
jars; runs look only for it and never download anything.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from lakehouse import ivy
from lakehouse.connectors import jars_root, reachable_repository
from lakehouse.errors import LakehouseError
from lakehouse_dev.streaming.config import (
    DEBEZIUM_VERSION,
    KAFKA_VERSION,
    LOG4J_VERSION,
    SLF4J_VERSION,
    StreamingConfig,
)

MANIFEST = "manifest.json"
KAFKA_ARTIFACTS = ("kafka_2.13", "kafka-tools", "connect-runtime", "connect-json", "connect-transforms")
PLUGIN_FOLDER = "debezium-connector-postgres"


def dependencies() -> list[ivy.Dependency]:
    broker = [
        ivy.Dependency(f"org.apache.kafka:{name}:{KAFKA_VERSION}", "broker") for name in KAFKA_ARTIFACTS
    ]
    broker += [
        ivy.Dependency(f"org.slf4j:slf4j-api:{SLF4J_VERSION}", "broker"),
        ivy.Dependency(f"org.apache.logging.log4j:log4j-core:{LOG4J_VERSION}", "broker"),
        ivy.Dependency(f"org.apache.logging.log4j:log4j-slf4j2-impl:{LOG4J_VERSION}", "broker"),
    ]
    plugin = ivy.Dependency(
        f"io.debezium:debezium-connector-postgres:{DEBEZIUM_VERSION}",
        "debezium",
        artifact="tar.gz:plugin",
        transitive=False,
    )
    return [*broker, plugin]


def _manifest(folder: Path) -> dict[str, object] | None:
    try:
        loaded = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def installed(config: StreamingConfig) -> bool:
    """True when both folders hold what this version of the project asks for."""
    broker, plugin = _manifest(config.broker_jars), _manifest(config.plugins_dir)
    if not broker or broker.get("kafka") != KAFKA_VERSION or broker.get("log4j") != LOG4J_VERSION:
        return False
    if not plugin or plugin.get("debezium") != DEBEZIUM_VERSION:
        return False
    jars = broker.get("jars")
    return isinstance(jars, list) and all((config.broker_jars / str(jar)).is_file() for jar in jars)


def classpath(config: StreamingConfig) -> str:
    """The broker/Connect classpath: Java expands the wildcard (no shell involved)."""
    return str(config.broker_jars / "*")


def check_broker(folder: Path) -> None:
    """Run a Kafka tool on the jars in a fresh JVM: Kafka, Scala and the logging backend all load."""
    done = subprocess.run(
        [ivy.java_binary(), "-Xmx128m", "-cp", str(folder / "*"), "kafka.tools.StorageTool", "random-uuid"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0 or len(done.stdout.strip()) != 22:
        raise LakehouseError(f"the Kafka {KAFKA_VERSION} jars do not run: {ivy.failure_line(output)}")
    if "No SLF4J providers" in output or "NOP" in output:
        raise LakehouseError("the Kafka jars have no working logging backend (slf4j found no provider)")


def unpack_plugin(tarball: Path, target: Path) -> Path:
    with tarfile.open(tarball) as archive:
        archive.extractall(target, filter="data")
    folder = target / PLUGIN_FOLDER
    if not (folder / f"debezium-connector-postgres-{DEBEZIUM_VERSION}.jar").is_file():
        raise LakehouseError(f"{tarball.name} holds no debezium-connector-postgres-{DEBEZIUM_VERSION}.jar")
    return folder


def fetch(config: StreamingConfig, force: bool = False) -> str:
    """Resolve, check and keep the broker/Connect jars and the Debezium plugin; a one-line report."""
    if installed(config) and not force:
        return f"kafka {KAFKA_VERSION} and debezium {DEBEZIUM_VERSION}: already installed in {jars_root()}"
    url = reachable_repository()
    started = time.monotonic()
    jars_root().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".streaming-", dir=jars_root()) as work_dir:
        work = Path(work_dir)
        files = ivy.retrieve(dependencies(), {}, url, work / "ivy")
        broker = work / "kafka-broker"
        broker.mkdir()
        for jar in files["broker"]:
            shutil.copy2(jar, broker / jar.name)
        check_broker(broker)
        (broker / MANIFEST).write_text(
            json.dumps(
                {
                    "kafka": KAFKA_VERSION,
                    "log4j": LOG4J_VERSION,
                    "jars": sorted(j.name for j in files["broker"]),
                },
                indent=2,
            )
            + "\n"
        )
        plugins = work / "debezium-postgres"
        folder = unpack_plugin(files["debezium"][0], plugins)
        jars = sorted(jar.name for jar in folder.glob("*.jar"))
        (plugins / MANIFEST).write_text(
            json.dumps({"debezium": DEBEZIUM_VERSION, "jars": jars}, indent=2) + "\n"
        )
        for built, target in ((broker, config.broker_jars), (plugins, config.plugins_dir)):
            shutil.rmtree(target, ignore_errors=True)
            built.rename(target)
    return (
        f"kafka {KAFKA_VERSION} ({len(files['broker'])} jars) and debezium {DEBEZIUM_VERSION} "
        f"({len(jars)} jars) in {jars_root()}, checked in {time.monotonic() - started:.0f}s"
    )
