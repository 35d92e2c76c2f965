"""`lakehouse-dev streaming setup|up|down|status`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from lakehouse.errors import LakehouseError

if TYPE_CHECKING:
    from lakehouse_dev.streaming.config import StreamingConfig


def add_parser(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "streaming",
        help="Kafka (KRaft), PostgreSQL and Debezium on 127.0.0.1: setup, up, down, status",
        description="Each action takes components (kafka, postgres, connect; default: all). `up` also "
        "starts what a component needs; `down` of kafka or postgres also stops connect.",
    )
    cmd.add_argument("action", choices=("setup", "up", "down", "status"))
    cmd.add_argument("components", nargs="*", help="kafka, postgres, connect (default: all)")
    cmd.add_argument("--timeout", type=float, default=180.0, help="up: seconds to wait for each service")
    cmd.add_argument("--wipe", action="store_true", help="down: also delete topics, database and offsets")
    cmd.add_argument("--force", action="store_true", help="setup: fetch again even if installed")
    cmd.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    from lakehouse_dev.streaming import services
    from lakehouse_dev.streaming.config import StreamingConfig

    config = StreamingConfig.from_env()
    if args.action == "setup":
        return setup(config, args.force)
    if args.action == "up":
        services.up(config, args.components, args.timeout, progress=lambda m: print(m, flush=True))
        print(f"kafka {config.bootstrap_servers} · connect {config.connect_url} · postgres {config.pg_dsn()}")
        print(f"state, logs and pid files: {config.state_dir}")
    elif args.action == "down":
        for message in services.down(config, args.components):
            print(message)
        if args.wipe:
            services.wipe(config)
            print(f"data wiped: {config.state_dir / 'data'}")
    else:
        for line in services.status(config):
            print(line)
    return 0


def setup(config: StreamingConfig, force: bool) -> int:
    """Fetch the broker, Connect, Debezium and Spark's Kafka source once; check PostgreSQL is there."""
    from lakehouse import connectors
    from lakehouse_dev.streaming import jars, services

    try:
        print(jars.fetch(config, force), flush=True)
        print(connectors.fetch("kafka", force), flush=True)
    except connectors.RepositoryUnreachableError as exc:
        raise LakehouseError(f"streaming jars not fetched: {exc}") from exc
    print(f"postgresql: {services.pg_bin()}")
    return 0
