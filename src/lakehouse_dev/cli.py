"""`lakehouse-dev`: the development tools' command line (sample data, benchmark, loopback cluster,
the streaming path's local services, and `run`: the main job on the sample, as `make run` runs it)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lakehouse.cli import TARGETS
from lakehouse.cli import main as run_main
from lakehouse_dev import cluster
from lakehouse_dev.bench import cli as bench_cli
from lakehouse_dev.generate import cli as generate_cli
from lakehouse_dev.streaming import cli as streaming_cli


def _cmd_run(args: argparse.Namespace) -> int:
    from lakehouse_dev.sample import run_with_sample

    return run_with_sample(args.target)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lakehouse-dev", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser(
        "run", help="land the sample (unless landed), then `lakehouse run` in the same process"
    )
    run.add_argument("--target", default="local", choices=TARGETS, help="dbt target / profile output")
    run.set_defaults(func=_cmd_run)
    generate_cli.add_parser(sub)
    bench_cli.add_parser(sub)
    cluster.add_parser(sub)
    streaming_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The same error handling and JVM shutdown as `lakehouse` (lakehouse.cli.main)."""
    return run_main(argv, parser=build_parser())


if __name__ == "__main__":
    sys.exit(main())
