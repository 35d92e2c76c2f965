"""A Spark standalone cluster on loopback, from the pip-installed Spark: `lakehouse cluster up|down`.

Five daemons, each a JVM started in its own process group with its log and pid file under
`$LAKEHOUSE_HOME/cluster/`:

* a Hive metastore service (thrift://127.0.0.1:9083) on its own Derby database, so the pipeline's
  driver and the Thrift server share one catalog at the same time; pyspark's jars hold no Derby
  network server (no derbynet/derbyclient), but they do hold Hive's metastore server;
* a master (spark://127.0.0.1:7077) and two workers with small core and memory budgets;
* a Spark Thrift Server (jdbc:hive2://127.0.0.1:10000) running as an application on the workers.

Tables live in the shared warehouse `$LAKEHOUSE_HOME/warehouse`. Every application started with
`cluster_env()` reads `cluster/conf/spark-defaults.conf`, which caps its executors so that the
Thrift server and a pipeline run fit on the workers together.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from lakehouse import ivy, pii
from lakehouse.config import Settings
from lakehouse.errors import LakehouseError

HOST = "127.0.0.1"
METASTORE_CLASS = "org.apache.hadoop.hive.metastore.HiveMetaStore"
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
THRIFT_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
# Executors per application: one core each, at most two, so the Thrift server and a pipeline run
# (two executors each) fit on two workers of two cores: this box has two real cores in total.
EXECUTOR_DEFAULTS = {
    "spark.executor.cores": "1",
    "spark.cores.max": "2",
    "spark.executor.memory": "768m",
    "spark.scheduler.minRegisteredResourcesRatio": "1.0",
    "spark.scheduler.maxRegisteredResourcesWaitingTime": "60s",
}


def _port(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    if not value.isdigit():
        raise LakehouseError(f"{name}={value!r} must be a port number")
    return int(value)


@dataclass(frozen=True)
class ClusterConfig:
    """Where the cluster keeps its state and which loopback ports it uses."""

    settings: Settings
    master_port: int = 7077
    master_ui_port: int = 18080
    metastore_port: int = 9083
    thrift_port: int = 10000
    workers: int = 2
    worker_cores: int = 2
    worker_memory: str = "2g"

    @classmethod
    def from_env(cls) -> ClusterConfig:
        return cls(
            settings=Settings.from_env(),
            master_port=_port("LAKEHOUSE_CLUSTER_MASTER_PORT", 7077),
            master_ui_port=_port("LAKEHOUSE_CLUSTER_UI_PORT", 18080),
            metastore_port=_port("LAKEHOUSE_METASTORE_PORT", 9083),
            thrift_port=_port("LAKEHOUSE_THRIFT_PORT", 10000),
        )

    @property
    def state_dir(self) -> Path:
        return self.settings.home / "cluster"

    @property
    def conf_dir(self) -> Path:
        return self.state_dir / "conf"

    @property
    def master_url(self) -> str:
        return f"spark://{HOST}:{self.master_port}"

    @property
    def metastore_url(self) -> str:
        return f"thrift://{HOST}:{self.metastore_port}"

    @property
    def thrift_jdbc_url(self) -> str:
        return f"jdbc:hive2://{HOST}:{self.thrift_port}/default"


@dataclass(frozen=True)
class Service:
    """One daemon: how to start it and how to tell it is ready."""

    name: str
    main_class: str
    command: list[str]
    port: int | None = None
    ready_line: str | None = None  # a log line that says the daemon finished starting
    env: dict[str, str] = field(default_factory=dict)


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def daemon_env(config: ClusterConfig) -> dict[str, str]:
    """Environment shared by every daemon: loopback only, small daemon heaps, our Spark conf."""
    return {
        "SPARK_HOME": str(spark_home()),
        "SPARK_CONF_DIR": str(config.conf_dir),
        "SPARK_LOCAL_IP": HOST,
        "SPARK_DAEMON_MEMORY": "384m",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }


def metastore_service(config: ClusterConfig) -> Service:
    state = config.state_dir
    props = {
        "hive.log.dir": str(state / "logs"),
        "hive.log.file": "metastore-hive.log",
        "hive.async.log.enabled": "false",  # Hive's async logger needs a jar pyspark does not ship
        "derby.system.home": str(state),
        "derby.stream.error.file": str(state / "logs" / "derby.log"),
        "hive.metastore.warehouse.dir": str(config.settings.warehouse_dir),
        "javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={state / 'metastore_db'};create=true",
        "datanucleus.schema.autoCreateAll": "true",
        "hive.metastore.schema.verification": "false",
    }
    command = [
        ivy.java_binary(),
        "-Xmx512m",
        "-cp",
        str(spark_home() / "jars" / "*"),
        *(f"-D{key}={value}" for key, value in props.items()),
        METASTORE_CLASS,
        "-p",
        str(config.metastore_port),
    ]
    return Service("metastore", METASTORE_CLASS, command, port=config.metastore_port)


def master_service(config: ClusterConfig) -> Service:
    command = [
        str(spark_home() / "bin" / "spark-class"),
        MASTER_CLASS,
        "--host",
        HOST,
        "--port",
        str(config.master_port),
        "--webui-port",
        str(config.master_ui_port),
    ]
    return Service("master", MASTER_CLASS, command, port=config.master_port)


def worker_service(config: ClusterConfig, number: int) -> Service:
    command = [
        str(spark_home() / "bin" / "spark-class"),
        WORKER_CLASS,
        "--host",
        HOST,
        "--cores",
        str(config.worker_cores),
        "--memory",
        config.worker_memory,
        "--work-dir",
        str(config.state_dir / "work" / f"worker-{number}"),
        "--webui-port",
        "0",  # any free port: two workers on one host cannot share the default 8081
        config.master_url,
    ]
    return Service(
        f"worker-{number}", WORKER_CLASS, command, ready_line="Successfully registered with master"
    )


def thrift_service(config: ClusterConfig) -> Service:
    from lakehouse import table_format
    from lakehouse.spark import session_conf

    settings = cluster_settings(config)
    conf = session_conf(settings, table_format.resolve(settings))
    conf.update({"spark.driver.memory": "1g", "spark.app.name": "lakehouse-thrift"})
    command = [
        str(spark_home() / "bin" / "spark-submit"),
        "--class",
        THRIFT_CLASS,
        *(arg for key, value in conf.items() for arg in ("--conf", f"{key}={value}")),
        "spark-internal",
        "--hiveconf",
        f"hive.server2.thrift.port={config.thrift_port}",
        "--hiveconf",
        f"hive.server2.thrift.bind.host={HOST}",
    ]
    # spark-submit sizes the Thrift server's driver heap from SPARK_DAEMON_MEMORY, not spark.driver.memory
    env = {"SPARK_DAEMON_MEMORY": "1g"}
    return Service("thrift", THRIFT_CLASS, command, port=config.thrift_port, env=env)


def services(config: ClusterConfig, thrift: bool = True) -> list[Service]:
    """The daemons in start order (stopped in reverse)."""
    chosen = [metastore_service(config), master_service(config)]
    chosen += [worker_service(config, n) for n in range(1, config.workers + 1)]
    if thrift:
        chosen.append(thrift_service(config))
    return chosen


def cluster_settings(config: ClusterConfig) -> Settings:
    """The project settings with the cluster's master and metastore filled in."""
    from dataclasses import replace

    return replace(config.settings, master=config.master_url, metastore_url=config.metastore_url)


def cluster_env(config: ClusterConfig) -> dict[str, str]:
    """Variables that make `get_spark()` (and so `lakehouse run`, dbt) use this cluster."""
    return {
        "LAKEHOUSE_SPARK_MASTER": config.master_url,
        "LAKEHOUSE_METASTORE_URL": config.metastore_url,
        "SPARK_CONF_DIR": str(config.conf_dir),
        "SPARK_LOCAL_IP": HOST,  # the driver listens on loopback too, where the executors call back
    }


# -- process bookkeeping ---------------------------------------------------------------------


def pid_file(config: ClusterConfig, name: str) -> Path:
    return config.state_dir / "run" / f"{name}.pid"


def log_file(config: ClusterConfig, name: str) -> Path:
    return config.state_dir / "logs" / f"{name}.log"


def running_pid(config: ClusterConfig, service: Service) -> int | None:
    """The pid of the service's daemon if the pid file names a live process running its class."""
    path = pid_file(config, service.name)
    if not path.exists():
        return None
    try:
        process = psutil.Process(int(path.read_text().strip()))
        alive = process.status() != psutil.STATUS_ZOMBIE and service.main_class in process.cmdline()
    except (ValueError, psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return process.pid if alive else None


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((HOST, port)) == 0


def wait_until_ready(
    what: str,
    ready: Callable[[], bool],
    alive: Callable[[], bool],
    timeout: float,
    log: Path,
    poll: float = 1.0,
) -> None:
    """Poll `ready` until it holds; one line naming `log` if the process dies or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if not alive():
            raise LakehouseError(f"{what} exited while starting; see {log}")
        time.sleep(poll)
    raise LakehouseError(f"{what} not ready after {timeout:.0f}s; see {log}")


@dataclass
class Launch:
    """A daemon just started: wait for it with `wait_ready`."""

    service: Service
    process: subprocess.Popen[bytes]
    log: Path
    log_offset: int  # where this start's output begins in the (appended) log
    started_at: float

    def ready(self) -> bool:
        if self.service.port is not None:
            return port_open(self.service.port)
        with open(self.log, "rb") as handle:
            handle.seek(self.log_offset)
            return (self.service.ready_line or "").encode() in handle.read()

    def wait_ready(self, timeout: float) -> str:
        wait_until_ready(
            self.service.name, self.ready, lambda: self.process.poll() is None, timeout, self.log
        )
        seconds = time.monotonic() - self.started_at
        return f"{self.service.name}: started (pid {self.process.pid}) in {seconds:.0f}s"


def launch(config: ClusterConfig, service: Service) -> Launch | None:
    """Start one daemon in the background; None when it already runs."""
    if running_pid(config, service) is not None:
        return None
    if service.port is not None and port_open(service.port):
        raise LakehouseError(
            f"port {service.port} for the {service.name} is taken by another process; "
            "stop it or choose other ports (LAKEHOUSE_CLUSTER_MASTER_PORT, LAKEHOUSE_METASTORE_PORT, "
            "LAKEHOUSE_THRIFT_PORT)"
        )
    log = log_file(config, service.name)
    offset = log.stat().st_size if log.exists() else 0
    with open(log, "ab") as out:
        process = subprocess.Popen(
            service.command,
            cwd=config.state_dir,
            env={**os.environ, **daemon_env(config), **service.env},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: `down` stops it with its children
        )
    pid_file(config, service.name).write_text(f"{process.pid}\n")
    return Launch(service, process, log, offset, time.monotonic())


def write_spark_defaults(config: ClusterConfig) -> None:
    lines = [f"{key} {value}" for key, value in EXECUTOR_DEFAULTS.items()]
    (config.conf_dir / "spark-defaults.conf").write_text(
        "# written by `lakehouse cluster up`: executor budget for apps on the loopback cluster\n"
        + "\n".join(lines)
        + "\n"
    )


def up(
    config: ClusterConfig,
    thrift: bool = True,
    timeout: float = 240.0,
    progress: Callable[[str], None] = lambda message: None,
) -> list[str]:
    """Start the metastore, master, workers and (optionally) the Thrift server; idempotent."""
    if thrift:  # its SQL hashes PII with the salt in its environment (lakehouse.pii)
        pii.require_production_salt("the Thrift server")
        pii.export_for_spark()
    for sub in ("conf", "logs", "run", "work"):
        (config.state_dir / sub).mkdir(parents=True, exist_ok=True)
    config.settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    write_spark_defaults(config)
    messages = []
    chosen = {service.name: service for service in services(config, thrift=thrift)}
    # metastore and master do not depend on each other; workers and the Thrift server need both
    first = [chosen.pop("metastore"), chosen.pop("master")]
    try:
        for wave in (first, list(chosen.values())):
            launches = []
            for service in wave:
                started = launch(config, service)
                if started is None:
                    messages.append(f"{service.name}: already running (pid {running_pid(config, service)})")
                    progress(messages[-1])
                else:
                    launches.append(started)
            for started in launches:
                messages.append(started.wait_ready(timeout))
                progress(messages[-1])
    except LakehouseError:
        down(config)  # leave nothing half-started behind
        raise
    return messages


def cluster_processes(config: ClusterConfig) -> list[psutil.Process]:
    """Every live process that belongs to this cluster: daemons, executors and their Python workers.

    Daemons and executors run with their working directory inside the cluster's state dir and
    name it on their command line; Python workers inherit an executor's working directory.
    """
    state = str(config.state_dir)
    found = []
    for process in psutil.process_iter(["pid", "name", "cmdline", "cwd", "status"]):
        info = process.info
        if info["status"] == psutil.STATUS_ZOMBIE or process.pid == os.getpid():
            continue
        if not (info["name"] or "").startswith(("java", "python")):  # never a shell or `tail -f` in there
            continue
        cwd = info["cwd"] or ""
        cmdline = " ".join(info["cmdline"] or [])
        if cwd == state or cwd.startswith(state + os.sep) or state + os.sep in cmdline:
            found.append(process)
    return found


def _terminate(processes: list[psutil.Process], grace: float) -> None:
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, remaining = psutil.wait_procs(processes, timeout=grace)
    for process in remaining:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(remaining, timeout=10)


def _group(pid: int) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(process.pid) == pid:
                members.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return members


def down(config: ClusterConfig, grace: float = 30.0) -> list[str]:
    """Stop every daemon (Thrift server first, metastore last) and anything they left running."""
    messages = []
    names = ["thrift", *(f"worker-{n}" for n in range(config.workers, 0, -1)), "master", "metastore"]
    for name in names:
        path = pid_file(config, name)
        if not path.exists():
            continue
        try:
            pid = int(path.read_text().strip())
        except ValueError:
            pid = -1
        # the daemon leads its own process group, which also holds the executors a worker forked
        members = _group(pid) if pid > 0 else []
        if members:
            _terminate(members, grace)
            messages.append(f"{name}: stopped (pid {pid})")
        path.unlink()
    strays = cluster_processes(config)
    if strays:
        _terminate(strays, grace=10)
        messages.append(f"stopped {len(strays)} leftover process(es)")
    if not messages:
        messages.append("cluster: not running")
    return messages


def status(config: ClusterConfig) -> Iterator[str]:
    for service in services(config, thrift=False):
        pid = running_pid(config, service)
        yield f"{service.name:10} {'running (pid ' + str(pid) + ')' if pid else 'stopped'}"
    pid = running_pid(config, Service("thrift", THRIFT_CLASS, []))
    yield f"{'thrift':10} {'running (pid ' + str(pid) + ')' if pid else 'stopped'}"


def require_running(config: ClusterConfig) -> None:
    """Fail with one line unless the cluster's master and metastore are up."""
    missing = [
        name
        for name, port in (("master", config.master_port), ("metastore", config.metastore_port))
        if not port_open(port)
    ]
    if missing:
        raise LakehouseError(
            f"no cluster running under {config.state_dir} ({' and '.join(missing)} not listening): "
            "start it with `make cluster-up`, or set LAKEHOUSE_SPARK_MASTER and LAKEHOUSE_METASTORE_URL "
            "for another cluster"
        )


def use_cluster() -> None:
    """Point this process's Spark session at the loopback cluster (`lakehouse run --target cluster`).

    An explicit LAKEHOUSE_SPARK_MASTER means another cluster: then nothing is checked or changed.
    """
    if os.environ.get("LAKEHOUSE_SPARK_MASTER"):
        return
    config = ClusterConfig.from_env()
    require_running(config)
    os.environ.update(cluster_env(config))


# -- command line: `lakehouse cluster up|down|status|env` ------------------------------------


def _cmd_cluster(args: argparse.Namespace) -> int:
    config = ClusterConfig.from_env()
    if args.action == "up":
        up(config, thrift=not args.no_thrift, timeout=args.timeout, progress=lambda m: print(m, flush=True))
        print(f"master {config.master_url} · metastore {config.metastore_url}", end="")
        print(f" · thrift {config.thrift_jdbc_url}" if not args.no_thrift else "")
        print(f"state, logs and pid files: {config.state_dir}")
    elif args.action == "down":
        for message in down(config):
            print(message)
    elif args.action == "status":
        for line in status(config):
            print(line)
    else:  # env: `eval "$(lakehouse cluster env)"` points dbt or a shell at the cluster
        for key, value in cluster_env(config).items():
            print(f"export {key}={shlex.quote(value)}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "cluster",
        help="a Spark standalone cluster on 127.0.0.1: metastore, master, 2 workers, Thrift server",
    )
    cmd.add_argument("action", choices=("up", "down", "status", "env"))
    cmd.add_argument("--no-thrift", action="store_true", help="up: skip the Thrift server")
    cmd.add_argument("--timeout", type=float, default=240.0, help="up: seconds to wait for each daemon")
    cmd.set_defaults(func=_cmd_cluster)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lakehouse_dev.cluster")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["cluster", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args))
    except LakehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
