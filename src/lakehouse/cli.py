"""`lakehouse`: the command line in front of the project's Python steps."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from lakehouse import __version__, cluster, connectors
from lakehouse.bench import cli as bench_cli
from lakehouse.errors import LakehouseError
from lakehouse.generate import cli as generate_cli
from lakehouse.ingest import cli as ingest_cli
from lakehouse.validate import cli as validate_cli

TARGETS = ("local", "ci", "cluster", "thrift")


def _cmd_run(args: argparse.Namespace) -> int:
    from lakehouse import pipeline

    if args.target == "cluster":  # executors on the loopback cluster unless a master is given
        cluster.use_cluster()
    return pipeline.run(target=args.target)


def _cmd_info(args: argparse.Namespace) -> int:
    from lakehouse import table_format
    from lakehouse.config import Settings, project_dir
    from lakehouse.spark import java_major_version

    settings = Settings.from_env()
    fmt = table_format.resolve(settings)
    print(f"project:        {project_dir()}")
    print(f"state (home):   {settings.home}")
    print(f"spark master:   {settings.master}")
    print(f"driver memory:  {settings.driver_memory}")
    print(f"shuffle parts:  {settings.shuffle_partitions}")
    print(f"java:           {java_major_version()}")
    print(f"table format:   {fmt.name} ({fmt.reason})")
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    from lakehouse import delta
    from lakehouse.spark import get_spark

    print(delta.restore(get_spark("lakehouse-restore"), args.table, args.version).describe())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lakehouse", description=__doc__)
    parser.add_argument("--version", action="version", version=f"lakehouse {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="the main job: every step, one Spark session, a run summary")
    run.add_argument("--target", default="local", choices=TARGETS, help="dbt target / profile output")
    run.set_defaults(func=_cmd_run)

    info = sub.add_parser("info", help="show settings, Java and the table format this run would use")
    info.set_defaults(func=_cmd_info)

    restore = sub.add_parser(
        "restore",
        help="put a Delta table back to an earlier version (default: the one the previous publish recorded)",
    )
    restore.add_argument("table", help="schema-qualified table, e.g. marts.fct_daily_funnel")
    restore.add_argument(
        "--version", type=int, default=None, help="the version to restore (describe history)"
    )
    restore.set_defaults(func=_cmd_restore)

    generate_cli.add_parser(sub)
    ingest_cli.add_parser(sub)
    cluster.add_parser(sub)
    connectors.add_parser(sub)
    bench_cli.add_parser(sub)
    validate_cli.add_parser(sub)
    return parser


def jvm_running() -> bool:
    if "pyspark" not in sys.modules:
        return False
    from pyspark import SparkContext

    return SparkContext._gateway is not None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. A Spark JVM the command started is stopped before this returns: it holds
    the embedded metastore's lock until it exits, and `lakehouse a && lakehouse b` must work."""
    jvm_before = jvm_running()
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except LakehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if jvm_running() and not jvm_before:  # the JVM this command started ends before it returns
            from lakehouse.spark import stop_spark

            stop_spark()


if __name__ == "__main__":
    sys.exit(main())
