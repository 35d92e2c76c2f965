"""The one SparkSession factory used by dbt (through the adapter plugin), ingestion, validation,
tests and benchmarks.

Everything that must be decided before the JVM starts lives here: Java version, the Derby
metastore lock, driver memory, the table format's jars and the Python used by UDF workers.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyspark import SparkContext
from pyspark.sql import SparkSession

from lakehouse import pii, table_format
from lakehouse.config import Settings
from lakehouse.errors import LakehouseError, one_line

log = logging.getLogger(__name__)

MIN_JAVA = 17
# Rows per Arrow record batch sent to pandas UDF workers: large enough to amortise the
# per-batch cost, small enough that one batch of wide feature rows stays well under 100 MB.
ARROW_BATCH_ROWS = 10_000
# The column every event table carries with a distinct value per row (written without a dictionary).
UNIQUE_PER_ROW_COLUMN = "event_id"
# how long a new process waits for a metastore that another one is releasing (LAKEHOUSE_METASTORE_WAIT)
METASTORE_WAIT_SECONDS = float(os.environ.get("LAKEHOUSE_METASTORE_WAIT") or 60)


def java_major_version() -> int:
    """Major version of the `java` Spark will launch (JAVA_HOME first, then PATH)."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise LakehouseError(
            f"Java not found: Spark needs Java {MIN_JAVA} or 21 "
            "(install openjdk-17-jre-headless or set JAVA_HOME)"
        )
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LakehouseError(f"cannot run {java} -version: {exc}") from exc
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise LakehouseError(f"cannot read the Java version from {java} -version: {out.strip()[:120]}")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def check_java() -> None:
    major = java_major_version()
    if major < MIN_JAVA:
        raise LakehouseError(
            f"Java {major} found, but Spark 4 needs Java {MIN_JAVA} or 21 "
            "(install openjdk-17-jre-headless or point JAVA_HOME at a newer JDK)"
        )


def metastore_in_use(metastore: Path) -> bool:
    """True while another process holds the embedded Derby metastore.

    Derby takes an exclusive OS file lock on `dbex.lck` while a JVM has the database open;
    Java and Python share POSIX record locks, so a non-blocking lock attempt tells.
    """
    lock_file = metastore / "dbex.lck"
    if not lock_file.exists():
        return False
    with open(lock_file, "rb+") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EAGAIN):
                return True
            raise
        fcntl.lockf(handle, fcntl.LOCK_UN)
    return False


def check_metastore_free(metastore: Path, wait_seconds: float = METASTORE_WAIT_SECONDS) -> None:
    """Wait up to `wait_seconds` for a metastore another process holds (a JVM finishing its exit
    releases it within seconds), saying so once; then fail with one line."""
    deadline = time.monotonic() + wait_seconds
    said = False
    while metastore_in_use(metastore):
        if time.monotonic() >= deadline:
            raise LakehouseError(
                f"the Derby metastore {metastore} is in use by another Spark process; "
                "wait for it to finish, or give this run its own LAKEHOUSE_HOME"
            )
        if not said:
            print(
                f"waiting up to {wait_seconds:.0f} s for the Derby metastore {metastore}, "
                "held by another Spark process",
                file=sys.stderr,
                flush=True,
            )
            said = True
        time.sleep(0.5)


def session_conf(settings: Settings, fmt: table_format.TableFormat) -> dict[str, str]:
    """Every Spark setting the factory applies, as plain strings (also used by spark-submit)."""
    home = settings.home
    conf = {
        "spark.master": settings.master,
        "spark.driver.memory": settings.driver_memory,
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        "spark.default.parallelism": str(settings.shuffle_partitions),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.sql.adaptive.skewJoin.enabled": "true",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(ARROW_BATCH_ROWS),
        "spark.sql.execution.pythonUDF.arrow.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.ansi.enabled": "false",
        # `${env:LAKEHOUSE_PII_SALT}` in hash_pii is filled in by Spark from the JVM's environment
        "spark.sql.variable.substitute": "true",
        # Parquet dictionary-encodes every column until the dictionary outgrows its page, then
        # rewrites the column plain. Event ids are unique per row, so that attempt is pure cost:
        # 5-8% of the write time of a 1M-event table (README Performance), same file size.
        f"spark.hadoop.parquet.enable.dictionary#{UNIQUE_PER_ROW_COLUMN}": "false",
        "spark.ui.enabled": "true" if settings.ui else "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.warehouse.dir": str(settings.warehouse_dir),
        "spark.sql.catalogImplementation": "hive",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={settings.metastore_dir};create=true"
        ),
        "spark.driver.extraJavaOptions": (
            f"-Dderby.system.home={home} -Dderby.stream.error.file={home / 'derby.log'}"
        ),
    }
    conf.update(metastore_conf(settings))
    conf.update(fmt.spark_conf)
    return conf


def metastore_conf(settings: Settings) -> dict[str, str]:
    """Settings that point Spark at a shared metastore (LAKEHOUSE_METASTORE_URL), if one is set."""
    url = settings.metastore_url
    if url is None:
        return {}
    if url.startswith("thrift://"):
        return {"spark.hadoop.hive.metastore.uris": url}
    if url.startswith("jdbc:"):
        return {"spark.hadoop.javax.jdo.option.ConnectionURL": url}
    raise LakehouseError(f"LAKEHOUSE_METASTORE_URL={url!r} must start with thrift:// or jdbc:")


def running_session() -> SparkSession | None:
    """The process-wide session if one is running (dbt threads have no thread-local active session)."""
    if SparkContext._active_spark_context is None:
        return None
    return SparkSession.builder.getOrCreate()


def get_spark(app_name: str = "lakehouse", extra_conf: dict[str, str] | None = None) -> SparkSession:
    """Return this process's SparkSession, starting it on first use."""
    running = running_session()
    if running is not None:
        return running
    settings = Settings.from_env()
    fmt = table_format.resolve(settings)
    check_java()
    settings.home.mkdir(parents=True, exist_ok=True)
    if not settings.master.startswith("local"):
        pii.require_production_salt(f"Spark on {settings.master}")
    pii.export_for_spark()  # before the JVM starts: it inherits the salt, which stays out of SQL and files
    if settings.metastore_url is None:  # a shared metastore takes no file lock here
        check_metastore_free(settings.metastore_dir)
    # pandas UDF workers start `PYSPARK_PYTHON`; make them use this interpreter and its packages.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")  # pandas-on-Spark asks for it on both sides
    builder = SparkSession.builder.appName(app_name).enableHiveSupport()
    for key, value in {**session_conf(settings, fmt), **(extra_conf or {})}.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM died before Py4J could say why: give the likely cause
        hint = f" ({fmt.reason})" if fmt.is_delta else ""
        raise LakehouseError(f"Spark failed to start{hint}: {one_line(exc)}") from exc
    spark.sparkContext.setLogLevel("ERROR")
    quiet_query_context_loggers()
    quiet_hive_alter_handler(spark)
    log.info("Spark %s started: master=%s format=%s", spark.version, settings.master, fmt.name)
    return spark


def stop_spark(timeout_seconds: float = 60.0) -> None:
    """Stop this process's SparkSession and end its JVM, waiting until the JVM has exited.

    Stopping the session leaves the JVM running until the Python process ends, and the JVM holds
    the embedded metastore's lock until it exits: a command that returns before then makes the
    next command, started right after it, fail to open the metastore. The JVM ends when its stdin
    closes (pyspark's gateway server waits for that); a later `get_spark` starts a new one."""
    gateway = SparkContext._gateway
    if SparkContext._active_spark_context is not None:
        SparkSession.builder.getOrCreate().stop()
    if gateway is None:
        return
    process = getattr(gateway, "proc", None)
    try:
        gateway.shutdown()
    except Exception:  # the JVM is already gone
        log.debug("the Py4J gateway did not shut down cleanly", exc_info=True)
    if process is not None:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    SparkContext._gateway = None
    SparkContext._jvm = None


@contextmanager
def runtime_conf(spark: SparkSession, overrides: dict[str, str]) -> Iterator[None]:
    """Set runtime SQL confs for a block and restore them after (the session is a per-process singleton)."""
    previous = {key: spark.conf.get(key, None) for key in overrides}
    for key, value in overrides.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, old_value in previous.items():
            if old_value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, old_value)


def quiet_query_context_loggers() -> None:
    """PySpark logs every failed query a second time, as JSON with the whole Java stack, before the
    exception reaches its caller (dbt, the CLI), which reports it in one line. Keep that copy for
    `--verbose` (debug) runs only."""
    from pyspark.logger import PySparkLogger

    level = logging.DEBUG if logging.getLogger("lakehouse").isEnabledFor(logging.DEBUG) else logging.CRITICAL
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(level)


def quiet_hive_alter_handler(spark: SparkSession) -> None:
    """Replacing a Delta table logs `ERROR HiveAlterHandler: Failed to alter table` with a stack:
    the metastore refuses the Hive-compatible schema change (Hive sees a placeholder schema for a
    Delta table), and Spark then stores the schema in its own format, which succeeds. Nothing fails,
    so the metastore's handler logs nothing unless debugging (`--verbose`)."""
    if logging.getLogger("lakehouse").isEnabledFor(logging.DEBUG):
        return
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    log4j = jvm.org.apache.logging.log4j
    handler = "org.apache.hadoop.hive.metastore.HiveAlterHandler"
    log4j.core.config.Configurator.setLevel(handler, log4j.Level.OFF)


def executor_count(spark: SparkSession) -> int:
    """Executors registered with this application, not counting the driver (0 in local mode)."""
    infos = spark.sparkContext._jsc.sc().statusTracker().getExecutorInfos()
    return max(0, len(infos) - 1)
