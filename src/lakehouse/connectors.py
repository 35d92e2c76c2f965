"""Spark connector jars, fetched once at setup into the checkout so that runs need no network.

`lakehouse connectors fetch` (run by `make setup`) resolves a connector's Maven coordinate with
Spark's own Ivy resolver, the one behind `--packages`: it needs only the Java and pyspark a run
needs anyway (no Maven install), resolves the transitive dependencies, and leaves out Spark's own
artifacts. Of what it downloads, the jars whose artifact pyspark already ships (Hadoop, Parquet,
Jackson, log4j, ...) are dropped, so the classpath holds one version of each library. The rest is
then proved before it is kept: a throw-away Spark session loads only those jars, offline, and
runs the connector's smoke test (for Delta: a MERGE that updates, deletes and inserts, then a read
of an older version). A build made for another Spark version fails there, at class loading or at
the MERGE, instead of in the middle of a run. Only a connector that passed gets its
`connector.json`, which is what runs look for.

The coordinate follows the installed packages (`delta-spark_<spark minor>_2.13:<delta-spark>`), so
upgrading pyspark or delta-spark makes the installed jars stale and the next `make setup` fetches
the matching ones.

Spark's Kafka source (`kafka`, fetched by `make streaming-setup`) needs a pinned transitive version
(see `SPARK_KAFKA_BUILDS`), which spark-submit's resolver cannot express: it is resolved by Ivy's own
command line (`lakehouse.ivy`), then filtered, verified and recorded exactly like Delta.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from lakehouse import ivy
from lakehouse.config import project_dir
from lakehouse.errors import LakehouseError, one_line

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_REPOSITORY = "https://repo1.maven.org/maven2"
REPOSITORY_ENV = "LAKEHOUSE_MAVEN_REPOSITORY"
MANIFEST = "connector.json"
# pyspark ships `<artifact>-<revision>.jar`; Spark's Ivy retrieval names a jar
# `<organisation>_<artifact>-<revision>.jar`. The artifact is what precedes the first `-<digit>`.
_JAR_NAME = re.compile(r"^(?P<artifact>.+?)-\d[^/]*\.jar$")
SPARK_SESSION_TIMEOUT_SECONDS = 600
RESULT = "RESULT:"  # how a step's subprocess marks the line that says why it failed


class RepositoryUnreachableError(LakehouseError):
    """The Maven repository cannot be reached: a notice at setup, where runs fall back to Parquet."""


def spark_minor() -> str:
    return ".".join(version("pyspark").split(".")[:2])


def delta_coordinate() -> str:
    """Maven coordinate of the Delta connector matching the installed pyspark and delta-spark."""
    return f"io.delta:delta-spark_{spark_minor()}_2.13:{version('delta-spark')}"


DELTA_SPARK_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}


# Spark's Kafka source per Spark minor: the newest build of that line on Maven Central (there is no
# 4.1.4), and the transitive versions to pin because the mirror lacks the ones its pom asks for
# (spark-token-provider-kafka-0-10_2.13:4.1.3 is not served; 4.1.1, of the same line, is).
SPARK_KAFKA_BUILDS: dict[str, tuple[str, dict[str, str]]] = {
    "4.1": ("4.1.3", {"org.apache.spark:spark-token-provider-kafka-0-10_2.13": "4.1.1"}),
}
# the classes a Kafka query needs beyond the source itself: each comes from another of the jars
KAFKA_CLASSES = (
    "org.apache.spark.sql.kafka010.KafkaSourceProvider",
    "org.apache.spark.kafka010.KafkaConfigUpdater",  # the token provider: without it the first query fails
    "org.apache.kafka.clients.consumer.KafkaConsumer",
    "org.apache.commons.pool2.impl.GenericKeyedObjectPool",  # pyspark ships commons-pool 1 only
)


def _spark_kafka_build() -> tuple[str, dict[str, str]]:
    try:
        return SPARK_KAFKA_BUILDS[spark_minor()]
    except KeyError:
        raise LakehouseError(
            f"no Kafka source build is known for Spark {spark_minor()}: add one to SPARK_KAFKA_BUILDS"
        ) from None


def kafka_coordinate() -> str:
    """Spark's Kafka source for the installed Spark, with the versions it pins (`+org:name:rev`)."""
    release, pinned = _spark_kafka_build()
    pins = "".join(f" +{module}:{rev}" for module, rev in sorted(pinned.items()))
    return f"org.apache.spark:spark-sql-kafka-0-10_2.13:{release}{pins}"


def _kafka_check(spark: SparkSession) -> str | None:
    """Every class a Kafka query loads, and a streaming DataFrame over the source (no broker needed)."""
    stream = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", "127.0.0.1:9")
        .option("subscribe", "smoke")
        .load()
    )
    utils = spark.sparkContext._jvm.org.apache.spark.util.Utils  # type: ignore[union-attr]
    for name in KAFKA_CLASSES:
        utils.classForName(name, True, False)  # the loader that holds spark.jars
    expected = ["key", "value", "topic", "partition", "offset", "timestamp", "timestampType"]
    return None if stream.columns == expected else f"unexpected Kafka source columns {stream.columns}"


@dataclass(frozen=True)
class Connector:
    name: str
    coordinate: Callable[[], str]
    spark_conf: dict[str, str]
    smoke_test: str  # SQL statements separated by `;`, the last one returning `ok` = true
    # or a check in Python: None when the connector works, else why not
    check: Callable[[SparkSession], str | None] | None = None
    # transitive versions to pin (`org:name` -> rev): resolved with Ivy itself instead of spark-submit
    overrides: Callable[[], dict[str, str]] | None = None


CONNECTORS = {
    "delta": Connector(
        name="delta",
        coordinate=delta_coordinate,
        spark_conf=DELTA_SPARK_CONF,
        smoke_test=";".join(
            [
                "create table smoke (id int, v string) using delta",
                "insert into smoke values (1, 'a'), (2, 'b'), (3, 'c')",
                "merge into smoke using (select * from values (1, 'A', false), (2, null, true),"
                " (4, 'd', false) as s(id, v, gone)) as s on smoke.id = s.id"
                " when matched and s.gone then delete when matched then update set v = s.v"
                " when not matched then insert (id, v) values (s.id, s.v)",
                "select (select concat_ws(',', sort_array(collect_list(concat(id, v)))) from smoke)"
                " = '1A,3c,4d'"
                " and (select count(*) from smoke version as of 1) = 3 as ok",
            ]
        ),
    ),
    "kafka": Connector(
        name="kafka",
        coordinate=kafka_coordinate,
        spark_conf={},
        smoke_test="classes load: " + ", ".join(KAFKA_CLASSES),
        check=_kafka_check,
        overrides=lambda: _spark_kafka_build()[1],
    ),
}


def jars_root() -> Path:
    """`<checkout>/.jars`: one folder per connector (git-ignored; kept by `make clean`)."""
    return project_dir() / ".jars"


def connector(name: str) -> Connector:
    try:
        return CONNECTORS[name]
    except KeyError:
        raise LakehouseError(f"unknown connector {name!r}; known: {', '.join(CONNECTORS)}") from None


def installed_jars(name: str, root: Path | None = None) -> list[Path] | None:
    """The verified jars of `name` matching the installed packages, or None (not fetched, stale)."""
    folder = (root or jars_root()) / name
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("coordinate") != connector(name).coordinate():
        return None
    jars = [folder / jar for jar in manifest.get("jars", [])]
    return jars if jars and all(jar.is_file() for jar in jars) else None


def artifact_of(jar_name: str, from_ivy: bool = False) -> str:
    """`hadoop-client-api` of `hadoop-client-api-3.4.2.jar` (from_ivy: of `org.apache.hadoop_...`)."""
    if from_ivy:
        jar_name = jar_name.partition("_")[2]  # organisations have dots, never underscores
    match = _JAR_NAME.match(jar_name)
    return match.group("artifact") if match else jar_name.removesuffix(".jar")


def pyspark_artifacts() -> set[str]:
    import pyspark

    return {artifact_of(jar.name) for jar in (Path(pyspark.__file__).parent / "jars").glob("*.jar")}


def jars_to_keep(resolved: list[Path], shipped: set[str]) -> list[Path]:
    """The jars Ivy resolved whose artifact pyspark does not ship already."""
    return sorted(jar for jar in resolved if artifact_of(jar.name, from_ivy=True) not in shipped)


def repository() -> str:
    return os.environ.get(REPOSITORY_ENV) or DEFAULT_REPOSITORY


def reachable_repository() -> str:
    """The repository to fetch from, or one line saying it cannot be reached and how to change it."""
    url = repository()
    if not repository_reachable(url):
        raise RepositoryUnreachableError(f"{url} is unreachable (set {REPOSITORY_ENV} to a mirror)")
    return url


def repository_reachable(url: str, timeout: float = 5.0) -> bool:
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


def ivy_settings(url: str) -> str:
    """Ivy settings with one Maven-layout resolver: the repository and nothing else (Spark's
    defaults add spark-packages.org and the local Maven cache)."""
    root = url.rstrip("/") + "/"
    return (
        "<ivysettings>\n"
        '  <settings defaultResolver="main"/>\n'
        '  <resolvers><ibiblio name="main" m2compatible="true" root="' + root + '"/></resolvers>\n'
        "</ivysettings>\n"
    )


def _run_python(args: list[str], what: str) -> None:
    """Run `python -m lakehouse.connectors <args>` (a JVM of its own); one line on failure."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lakehouse.connectors", *args],
            capture_output=True,
            text=True,
            timeout=SPARK_SESSION_TIMEOUT_SECONDS,
            env={**os.environ, "PYSPARK_PYTHON": sys.executable},
        )
    except subprocess.TimeoutExpired as exc:
        raise LakehouseError(f"{what} took more than {SPARK_SESSION_TIMEOUT_SECONDS} s") from exc
    if done.returncode != 0:
        raise LakehouseError(f"{what} failed: {telling_line(done.stdout + done.stderr)}")


def telling_line(output: str) -> str:
    """The line of a JVM's output that says why it failed (Ivy or Java), else the last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for marker in (RESULT, "unresolved dependency", "not found", "Exception:", "Error:"):
        for line in lines:
            if marker in line:
                return line.removeprefix(RESULT).strip()[:300]
    return lines[-1][:300] if lines else "no output"


def fetch(name: str, force: bool = False) -> str:
    """Resolve, filter and verify connector `name` into `jars_root()/name`; returns a one-line report.

    Raises LakehouseError when the repository cannot be reached or the jars do not work."""
    spec = connector(name)
    coordinate = spec.coordinate()
    target = jars_root() / name
    existing = installed_jars(name)
    if existing and not force:
        return f"{name} connector {coordinate}: already installed ({len(existing)} jars in {target})"
    url = reachable_repository()
    started = time.monotonic()
    jars_root().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=jars_root()) as work_dir:
        work = Path(work_dir)
        if spec.overrides is None:
            (work / "ivysettings.xml").write_text(ivy_settings(url))
            _run_python(["_resolve", coordinate, str(work)], f"resolving {coordinate} from {url}")
            resolved = sorted((work / "ivy" / "jars").glob("*.jar"))
        else:
            main = ivy.Dependency(coordinate.split(" ")[0], "jars")
            resolved = ivy.retrieve([main], spec.overrides(), url, work / "ivy")["jars"]
        kept = jars_to_keep([jar for jar in resolved if jar.suffix == ".jar"], pyspark_artifacts())
        staged = work / "jars"
        staged.mkdir()
        for jar in kept:
            shutil.copy2(jar, staged / jar.name)
        _run_python(["_verify", name, str(staged)], f"verifying {coordinate} on Spark {version('pyspark')}")
        manifest = {
            "coordinate": coordinate,
            "repository": url,
            "spark": version("pyspark"),
            "jars": [jar.name for jar in kept],
            "verified": spec.smoke_test.split(";")[-1],
        }
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        staged.rename(target)
    size = sum(jar.stat().st_size for jar in target.glob("*.jar")) / 2**20
    return (
        f"{name} connector {coordinate}: {len(kept)} jars ({size:.0f} MiB) in {target}, "
        f"verified on Spark {version('pyspark')} in {time.monotonic() - started:.0f}s"
    )


def _resolve(coordinate: str, work: Path) -> None:
    """Let spark-submit's Ivy resolve `coordinate` into `work/ivy/jars` (a JVM, no SparkContext)."""
    from pyspark import SparkConf
    from pyspark.java_gateway import launch_gateway

    conf = (
        SparkConf()
        .set("spark.jars.packages", coordinate)
        .set("spark.jars.ivy", str(work / "ivy"))
        .set("spark.jars.ivySettings", str(work / "ivysettings.xml"))
    )
    launch_gateway(conf).shutdown()


def _verify(name: str, jars_dir: Path) -> None:
    """Load only the jars in `jars_dir` into a fresh local session and run the smoke test."""
    from pyspark.sql import SparkSession

    spec = connector(name)
    jars = ",".join(str(jar) for jar in sorted(jars_dir.glob("*.jar")))
    with tempfile.TemporaryDirectory(prefix="lakehouse-connector-check-") as scratch:
        builder = (
            SparkSession.builder.master("local[1]")
            .appName(f"verify-{name}")
            .config("spark.jars", jars)
            .config("spark.sql.catalogImplementation", "in-memory")
            .config("spark.sql.warehouse.dir", scratch)
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.databricks.delta.snapshotPartitions", "1")
            .config("spark.ui.enabled", "false")
        )
        for key, value in spec.spark_conf.items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        try:
            if spec.check is not None:
                problem = spec.check(spark)
            else:
                *statements, check = spec.smoke_test.split(";")
                for statement in statements:
                    spark.sql(statement)
                row = spark.sql(check).first()
                problem = None if row and row["ok"] else f"the {name} smoke test returned wrong rows"
        except Exception as exc:  # a build for another Spark fails here: say with which class
            raise SystemExit(f"{RESULT} {one_line(exc)}") from exc
        finally:
            spark.stop()
        if problem:
            raise SystemExit(f"{RESULT} {problem}")


def add_parser(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("connectors", help="fetch and list the Spark connector jars (run by `make setup`)")
    actions = cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    fetch_cmd = actions.add_parser("fetch", help="resolve, verify and keep a connector's jars in .jars/")
    fetch_cmd.add_argument("names", nargs="*", default=list(CONNECTORS), help="connectors (default: all)")
    fetch_cmd.add_argument("--force", action="store_true", help="fetch again even if installed")
    fetch_cmd.add_argument(
        "--optional",
        action="store_true",
        help="an unreachable repository is a notice, not an error (`make setup`: runs fall back)",
    )
    fetch_cmd.set_defaults(func=_cmd_fetch)
    list_cmd = actions.add_parser("list", help="show each connector's coordinate and whether it is installed")
    list_cmd.set_defaults(func=_cmd_list)


def _cmd_fetch(args: argparse.Namespace) -> int:
    for name in args.names:
        try:
            print(fetch(name, force=args.force), flush=True)
        except RepositoryUnreachableError as exc:
            if not args.optional:
                raise
            fallback = "; runs fall back to Parquet" if name == "delta" else ""
            print(f"{name} connector not fetched: {exc}{fallback}", flush=True)
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    for name, spec in CONNECTORS.items():
        jars = installed_jars(name)
        state = f"installed, {len(jars)} jars" if jars else "not installed (make setup)"
        print(f"{name}: {spec.coordinate()} - {state}")
    return 0


if __name__ == "__main__":  # the JVM-side steps of `fetch`, each in a process of its own
    step, *rest = sys.argv[1:]
    if step == "_resolve":
        _resolve(rest[0], Path(rest[1]))
    elif step == "_verify":
        _verify(rest[0], Path(rest[1]))
    else:
        raise SystemExit(f"unknown step {step!r}")
