"""Start, stop and inspect the streaming services: `up`, `down`, `status`, component by component.

* kafka: one KRaft node (broker + controller), storage formatted on first start;
* postgres: a private cluster under the state dir (initdb on first start, the shop's schema, logical
  replication on); PostgreSQL refuses to run as root, so as root it runs as the `postgres` user;
* connect: Kafka Connect standalone with Debezium's connector; it needs the other two.

The broker and Connect are JVMs started in process groups of their own (pid files under
`run/`); `pg_ctl` daemonises PostgreSQL itself. `down` stops them newest first (Connect first, so
Debezium flushes its position) and then checks that no process of theirs is left. `up` and `down`
are idempotent: a running service is kept, a stopped one left alone.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import psutil

from lakehouse import ivy
from lakehouse.errors import LakehouseError
from lakehouse_dev.cluster import port_open, wait_until_ready
from lakehouse_dev.streaming import jars, render, shop, topics
from lakehouse_dev.streaming.config import (
    CONNECT_PASSWORD_ENV,
    CONNECTOR_NAME,
    HOST,
    StreamingConfig,
    debezium_password,
)

COMPONENTS = ("kafka", "postgres", "connect")
NEEDS = {"kafka": (), "postgres": (), "connect": ("kafka", "postgres")}
KAFKA_CLASS = "kafka.Kafka"
CONNECT_CLASS = "org.apache.kafka.connect.cli.ConnectStandalone"
JVM_OPTIONS = ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true"]
HEAPS = {"kafka": ["-Xms256m", "-Xmx256m"], "connect": ["-Xms256m", "-Xmx512m"]}
PG_OS_USER = "postgres"
STOP_GRACE = {"connect": 60.0, "kafka": 90.0}
Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


def selected(names: Iterable[str]) -> list[str]:
    """The components asked for plus what they need, in start order."""
    wanted = set(names) or set(COMPONENTS)
    unknown = wanted - set(COMPONENTS)
    if unknown:
        raise LakehouseError(
            f"unknown component(s) {', '.join(sorted(unknown))}; known: {', '.join(COMPONENTS)}"
        )
    for name in list(wanted):
        wanted.update(NEEDS[name])
    return [name for name in COMPONENTS if name in wanted]


# -- prerequisites -----------------------------------------------------------------------------


def pg_bin(packages: Path = Path("/usr/lib/postgresql")) -> Path:
    """PostgreSQL's server binaries: LAKEHOUSE_PG_BIN, else the newest `<packages>/<v>/bin` (where
    Debian and Ubuntu put them, off the PATH), else `initdb` on the PATH."""
    explicit = os.environ.get("LAKEHOUSE_PG_BIN")
    candidates = [Path(explicit)] if explicit else []
    candidates += sorted(
        packages.glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )[::-1]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise LakehouseError(
        "PostgreSQL server binaries not found: install them (`apt-get install postgresql`) "
        "or point LAKEHOUSE_PG_BIN at the folder holding initdb and pg_ctl"
    )


def _as_pg_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its tools as the `postgres` user."""
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam(PG_OS_USER)
    except KeyError:
        raise LakehouseError(
            f"running as root, PostgreSQL needs the `{PG_OS_USER}` OS user "
            "(`apt-get install postgresql` creates it)"
        ) from None
    return ["runuser", "-u", PG_OS_USER, "--", *command]


def _own_for_postgres(*paths: Path) -> None:
    if os.geteuid() == 0:
        for path in paths:
            shutil.chown(path, PG_OS_USER, PG_OS_USER)


def _check_reachable_by_postgres(path: Path) -> None:
    """As root, the `postgres` user must be able to walk down to the state dir."""
    if os.geteuid() != 0:
        return
    done = subprocess.run(["runuser", "-u", PG_OS_USER, "--", "test", "-x", str(path)], capture_output=True)
    if done.returncode != 0:
        raise LakehouseError(
            f"PostgreSQL runs as the `{PG_OS_USER}` user, which cannot reach {path}: "
            "choose a LAKEHOUSE_HOME it can traverse (every parent folder needs o+x)"
        )


def require(config: StreamingConfig, components: list[str]) -> None:
    """One line naming what is missing, before anything starts."""
    if {"kafka", "connect"} & set(components) and not jars.installed(config):
        raise LakehouseError(
            "the Kafka broker and Debezium jars are not installed: run `make streaming-setup` "
            "(fetches them once from Maven Central)"
        )
    if {"kafka", "connect"} & set(components):
        ivy.java_binary()
    if "postgres" in components:
        pg_bin()


# -- process bookkeeping -----------------------------------------------------------------------


def pid_file(config: StreamingConfig, name: str) -> Path:
    return config.run_dir / f"{name}.pid"


def log_file(config: StreamingConfig, name: str) -> Path:
    return config.logs_dir / f"{name}.log"


def _jvm_pid(config: StreamingConfig, name: str, main_class: str) -> int | None:
    """The pid in `run/<name>.pid` if it is a live JVM running `main_class` with our configuration."""
    path = pid_file(config, name)
    try:
        process = psutil.Process(int(path.read_text().strip()))
        cmdline = process.cmdline()
        alive = process.status() != psutil.STATUS_ZOMBIE and main_class in cmdline
        ours = any(str(config.conf_dir) in arg for arg in cmdline)
    except (OSError, ValueError, psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return process.pid if alive and ours else None


def postmaster_pid(config: StreamingConfig) -> int | None:
    try:
        pid = int((config.pg_data / "postmaster.pid").read_text().splitlines()[0])
        process = psutil.Process(pid)
        alive = process.status() != psutil.STATUS_ZOMBIE and process.name() in ("postgres", "postmaster")
        return pid if alive else None
    except (OSError, ValueError, IndexError, psutil.NoSuchProcess):
        return None


def running(config: StreamingConfig) -> dict[str, int | None]:
    return {
        "kafka": _jvm_pid(config, "kafka", KAFKA_CLASS),
        "postgres": postmaster_pid(config),
        "connect": _jvm_pid(config, "connect", CONNECT_CLASS),
    }


def _free(port: int, what: str, variable: str) -> None:
    if port_open(port):
        raise LakehouseError(f"port {port} for {what} is taken by another process; stop it or set {variable}")


def _spawn(
    config: StreamingConfig, name: str, command: list[str], env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    log = log_file(config, name)
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command,
            cwd=config.state_dir,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: `down` stops it with anything it forks
        )
    pid_file(config, name).write_text(f"{process.pid}\n")
    return process


def _java(config: StreamingConfig, name: str, main_class: str, *args: str) -> list[str]:
    """A JVM on the broker's classpath; daemons log at INFO, one-off tools (no heap of their own) at WARN."""
    log_config = "log4j2.properties" if name in HEAPS else "log4j2-tools.properties"
    return [
        ivy.java_binary(),
        *HEAPS.get(name, ["-Xmx128m"]),
        *JVM_OPTIONS,
        f"-Dlog4j2.configurationFile={config.conf_dir / log_config}",
        "-cp",
        jars.classpath(config),
        main_class,
        *args,
    ]


def write_configuration(config: StreamingConfig) -> None:
    for folder in (config.conf_dir, config.logs_dir, config.run_dir, config.connect_offsets.parent):
        folder.mkdir(parents=True, exist_ok=True)
    files = {
        "kafka-server.properties": render.kafka_server(config),
        "log4j2.properties": render.log4j2(),
        "log4j2-tools.properties": render.log4j2("WARN"),
        "connect-standalone.properties": render.connect_worker(config),
        "shop-connector.properties": render.shop_connector(config),
        "postgresql.conf": render.postgresql_conf(config),
    }
    for name, text in files.items():
        (config.conf_dir / name).write_text(text)


# -- kafka -------------------------------------------------------------------------------------


def new_cluster_id() -> str:
    """A KRaft cluster id: a random UUID in URL-safe base64, as `kafka-storage random-uuid` makes."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def start_kafka(config: StreamingConfig, timeout: float) -> str:
    _free(config.kafka_port, "the Kafka broker", "LAKEHOUSE_KAFKA_PORT")
    _free(config.controller_port, "the Kafka controller", "LAKEHOUSE_KAFKA_CONTROLLER_PORT")
    properties = str(config.conf_dir / "kafka-server.properties")
    if not (config.kafka_data / "meta.properties").exists():
        config.kafka_data.mkdir(parents=True, exist_ok=True)
        tool = _java(config, "tools", "kafka.tools.StorageTool", "format", "-t", new_cluster_id())
        done = subprocess.run(
            [*tool, "-c", properties, "--standalone"], capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise LakehouseError(
                f"formatting Kafka's storage failed: {ivy.failure_line(done.stdout + done.stderr)}"
            )
    started = time.monotonic()
    process = _spawn(config, "kafka", _java(config, "kafka", KAFKA_CLASS, properties))
    wait_until_ready(
        "kafka",
        lambda: port_open(config.kafka_port) and topics.reachable(config),
        lambda: process.poll() is None,
        timeout,
        log_file(config, "kafka"),
    )
    seconds = time.monotonic() - started
    return f"kafka: started (pid {process.pid}) on {config.bootstrap_servers} in {seconds:.0f}s"


# -- postgres ----------------------------------------------------------------------------------


def _pg_ctl(config: StreamingConfig, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    command = _as_pg_user([str(pg_bin() / "pg_ctl"), "-D", str(config.pg_data), *args])
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def start_postgres(config: StreamingConfig, timeout: float) -> str:
    _free(config.pg_port, "PostgreSQL", "LAKEHOUSE_PG_PORT")
    config.pg_socket_dir.mkdir(parents=True, exist_ok=True)
    config.pg_socket_dir.chmod(0o700)
    _own_for_postgres(config.pg_socket_dir)
    started = time.monotonic()
    if not (config.pg_data / "PG_VERSION").exists():
        _check_reachable_by_postgres(config.state_dir)
        config.pg_data.mkdir(parents=True, exist_ok=True)
        config.pg_data.chmod(0o700)
        _own_for_postgres(config.pg_data)
        initdb = [str(pg_bin() / "initdb"), "-D", str(config.pg_data), "-U", "postgres", "--auth-local=trust"]
        initdb += ["--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8"]
        done = subprocess.run(_as_pg_user(initdb), capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise LakehouseError(f"initdb failed: {ivy.failure_line(done.stdout + done.stderr)}")
        with open(config.pg_data / "postgresql.conf", "a") as conf:
            conf.write(f"include '{config.conf_dir / 'postgresql.conf'}'\n")
    log = log_file(config, "postgres")
    log.touch()
    _own_for_postgres(log)
    done = _pg_ctl(config, "-l", str(log), "-w", "-t", str(int(timeout)), "start", timeout=timeout + 10)
    if done.returncode != 0:
        raise LakehouseError(
            f"PostgreSQL did not start: {ivy.failure_line(done.stdout + done.stderr)}; see {log}"
        )
    if not shop.database_exists(config):
        shop.create_shop(config)
    seconds = time.monotonic() - started
    return f"postgres: started (pid {postmaster_pid(config)}) on {HOST}:{config.pg_port} in {seconds:.0f}s"


# -- connect -----------------------------------------------------------------------------------


def connector_status(config: StreamingConfig) -> dict[str, Any] | None:
    url = f"{config.connect_url}/connectors/{CONNECTOR_NAME}/status"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            loaded = json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return loaded if isinstance(loaded, dict) else None


def connector_running(config: StreamingConfig) -> bool:
    status = connector_status(config)
    if status is None:
        return False
    states = [status.get("connector", {}).get("state"), *(t.get("state") for t in status.get("tasks", []))]
    if "FAILED" in states:
        trace = next((t.get("trace", "") for t in status.get("tasks", []) if t.get("state") == "FAILED"), "")
        reason = trace.strip().splitlines()[0] if trace.strip() else "see the log"
        raise LakehouseError(f"the Debezium connector failed: {reason[:300]}")
    return len(states) > 1 and all(state == "RUNNING" for state in states)


def start_connect(config: StreamingConfig, timeout: float) -> str:
    _free(config.connect_port, "Kafka Connect", "LAKEHOUSE_CONNECT_PORT")
    password = debezium_password()
    shop.set_debezium_password(config, password)
    started = time.monotonic()
    command = _java(
        config,
        "connect",
        CONNECT_CLASS,
        str(config.conf_dir / "connect-standalone.properties"),
        str(config.conf_dir / "shop-connector.properties"),
    )
    process = _spawn(config, "connect", command, env={CONNECT_PASSWORD_ENV: password})
    log = log_file(config, "connect")
    wait_until_ready(
        "connect", lambda: connector_running(config), lambda: process.poll() is None, timeout, log
    )
    wait_until_ready(
        "the replication slot", lambda: shop.slot_active(config), lambda: process.poll() is None, timeout, log
    )
    seconds = time.monotonic() - started
    return (
        f"connect: started (pid {process.pid}) on {config.connect_url}, connector running in {seconds:.0f}s"
    )


STARTERS: dict[str, Callable[[StreamingConfig, float], str]] = {
    "kafka": start_kafka,
    "postgres": start_postgres,
    "connect": start_connect,
}


def up(
    config: StreamingConfig,
    components: Iterable[str] = (),
    timeout: float = 180.0,
    progress: Progress = _quiet,
) -> list[str]:
    """Start the chosen components and what they need; those already running are kept."""
    chosen = selected(components)
    require(config, chosen)
    write_configuration(config)
    messages = []
    for name in chosen:
        pid = running(config)[name]
        message = f"{name}: already running (pid {pid})" if pid else STARTERS[name](config, timeout)
        messages.append(message)
        progress(message)
    return messages


# -- down --------------------------------------------------------------------------------------


def _stop_group(pid: int, grace: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def leftovers(config: StreamingConfig, postgres_pids: Iterable[int] = ()) -> list[psutil.Process]:
    """Live processes of ours: anything naming the state dir, and the PostgreSQL processes given."""
    state = str(config.state_dir)
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        info = process.info
        if info["status"] == psutil.STATUS_ZOMBIE or process.pid == os.getpid():
            continue
        if process.pid in set(postgres_pids) or any(state in arg for arg in info["cmdline"] or []):
            found.append(process)
    return found


def stop(config: StreamingConfig, name: str) -> str | None:
    """Stop one component; None when it was not running."""
    pid = running(config)[name]
    if pid is None:
        pid_file(config, name).unlink(missing_ok=True)
        return None
    started = time.monotonic()
    if name == "postgres":
        done = _pg_ctl(config, "-m", "fast", "-w", "-t", "60", "stop", timeout=90)
        if done.returncode != 0 and _alive(pid):
            _stop_group(pid, 10.0)
    else:
        _stop_group(pid, STOP_GRACE[name])
        pid_file(config, name).unlink(missing_ok=True)
    return f"{name}: stopped (pid {pid}) in {time.monotonic() - started:.1f}s"


def down(config: StreamingConfig, components: Iterable[str] = (), progress: Progress = _quiet) -> list[str]:
    """Stop the chosen components (all by default; Connect before what it needs), then check that
    nothing of theirs is left running."""
    wanted = set(components) or set(COMPONENTS)
    selected(wanted)  # validates the names
    if wanted & {"kafka", "postgres"}:
        wanted.add("connect")  # Connect cannot outlive the services it reads and writes
    postmaster = postmaster_pid(config)
    pg_children = (
        [child.pid for child in psutil.Process(postmaster).children(recursive=True)] if postmaster else []
    )
    messages = []
    for name in reversed(COMPONENTS):
        if name in wanted:
            message = stop(config, name)
            if message:
                messages.append(message)
                progress(message)
    if wanted == set(COMPONENTS):
        left = leftovers(config, [pid for pid in (postmaster, *pg_children) if pid])
        if left:
            described = ", ".join(f"{p.pid} ({' '.join(p.cmdline()[:2])})" for p in left)
            raise LakehouseError(f"processes still running after down: {described}")
        messages.append("no process left running")
    return messages or ["streaming services: not running"]


def wipe(config: StreamingConfig) -> None:
    """Delete the services' data (topics, database, Connect offsets); only when all are stopped."""
    if any(running(config).values()):
        raise LakehouseError("stop the streaming services first (`lakehouse-dev streaming down`)")
    shutil.rmtree(config.state_dir / "data", ignore_errors=True)


def status(config: StreamingConfig) -> list[str]:
    lines = []
    ports = {
        "kafka": config.bootstrap_servers,
        "postgres": f"{HOST}:{config.pg_port}",
        "connect": config.connect_url,
    }
    for name, pid in running(config).items():
        lines.append(f"{name:9} {'running (pid ' + str(pid) + ') on ' + ports[name] if pid else 'stopped'}")
    if running(config)["connect"]:
        state = connector_status(config) or {}
        tasks = ", ".join(str(t.get("state")) for t in state.get("tasks", []))
        lines.append(
            f"{'connector':9} {CONNECTOR_NAME}: {state.get('connector', {}).get('state')} (tasks: {tasks})"
        )
    lines.append(f"{'state':9} {config.state_dir}")
    return lines
