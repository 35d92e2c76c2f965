"""`lakehouse`: the production command line. It parses arguments and calls the run layer or a
domain package; the development tools (sample data, benchmark, loopback cluster) are
`lakehouse-dev` (package lakehouse_dev)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from lakehouse import __version__, connectors
from lakehouse.errors import LakehouseError

TARGETS = ("local", "ci", "cluster", "thrift")


def _cmd_run(args: argparse.Namespace) -> int:
    from lakehouse.run import pipeline

    if args.target == "cluster" and not os.environ.get("LAKEHOUSE_SPARK_MASTER"):
        raise LakehouseError(
            "--target cluster needs LAKEHOUSE_SPARK_MASTER (and LAKEHOUSE_METASTORE_URL); for the loopback "
            'cluster: `eval "$(lakehouse-dev cluster env)"`, or `make run TARGET=cluster`'
        )
    if args.source == "kafka":  # the streaming topics instead of the landing zone
        from lakehouse.ingest import kafka
        from lakehouse.run.steps import STEPS, kafka_ingest_step

        kafka.use_kafka_source()
        steps = [("ingest (kafka)", kafka_ingest_step), *(step for step in STEPS if step[0] != "ingest")]
        return pipeline.run(target=args.target, steps=steps)
    return pipeline.run(target=args.target)


def _cmd_ingest(args: argparse.Namespace) -> int:
    from lakehouse.config import Settings
    from lakehouse.spark import get_spark

    if args.source == "kafka":
        from lakehouse.ingest import kafka

        kafka.use_kafka_source()
        result = kafka.ingest(
            get_spark(), max_offsets_per_batch=args.max_offsets_per_batch or kafka.MAX_OFFSETS_PER_BATCH
        )
        lines = kafka.describe(result)
    else:
        from lakehouse.ingest.bronze import describe, ingest

        result = ingest(get_spark("lakehouse-ingest"), Settings.from_env(), args.max_files_per_batch)
        lines = describe(result)
    for line in lines:
        print(line)
    print(json.dumps(result.summary(), indent=2, default=str))
    return 0 if result.reconciled else 1


def _cmd_validate(args: argparse.Namespace) -> int:
    from lakehouse.run import pipeline
    from lakehouse.run.steps import validate_step

    return pipeline.run(target=args.target, steps=[("validate", validate_step)])


def _cmd_import(args: argparse.Namespace) -> int:
    from lakehouse.config import Settings
    from lakehouse.importer.core import describe, import_log
    from lakehouse.importer.mapping import load_mapping

    mapping = load_mapping(args.mapping)
    result = import_log(args.source, mapping, Path(args.out or Settings.from_env().landing_dir))
    print(describe(result))
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    from lakehouse.run.publishing import restore_and_republish

    print(restore_and_republish(args.table, args.version, args.target))
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lakehouse", description=__doc__)
    parser.add_argument("--version", action="version", version=f"lakehouse {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="the main job: ingest, dbt build, checks, publish; one Spark session")
    run.add_argument("--target", default="local", choices=TARGETS, help="dbt target / profile output")
    run.add_argument(
        "--source",
        default="files",
        choices=("files", "kafka"),
        help="files: the landing zone; kafka: the clickstream and Debezium topics "
        "(`lakehouse-dev streaming up`)",
    )
    run.set_defaults(func=_cmd_run)

    ingest = sub.add_parser(
        "ingest",
        help="stream new landing files (or Kafka records) into bronze, exactly once "
        "(bad lines go to bronze.quarantine)",
    )
    ingest.add_argument(
        "--source",
        choices=("files", "kafka"),
        default="files",
        help="files: the landing zone; kafka: the clickstream and Debezium topics "
        "(`lakehouse-dev streaming up`)",
    )
    ingest.add_argument(
        "--max-offsets-per-batch",
        type=int,
        default=None,
        help="kafka: records per micro-batch and topic (default 250,000)",
    )
    ingest.add_argument(
        "--max-files-per-batch",
        type=int,
        default=None,
        help="micro-batch size in files (default: up to 512 MiB of landed files per batch)",
    )
    ingest.set_defaults(func=_cmd_ingest)

    from lakehouse.importer.mapping import PRESETS_DIR

    presets = ", ".join(sorted(p.stem for p in PRESETS_DIR.glob("*.yml")))
    log_import = sub.add_parser(
        "import",
        help="map a CSV or Parquet event log to the event contract and land it for `lakehouse ingest`",
        description="Re-importing the same file with the same mapping is a no-op. Rows that do not map are "
        "counted by reason; `lakehouse ingest` and dbt then run as on generated data.",
    )
    log_import.add_argument("source", type=Path, help="the log: a .csv or .parquet file")
    log_import.add_argument(
        "--mapping", required=True, help=f"a mapping file (YAML or JSON) or a preset: {presets}"
    )
    log_import.add_argument(
        "--out", default=None, help="landing directory (default: $LAKEHOUSE_HOME/landing)"
    )
    log_import.add_argument("--json", action="store_true", help="also print the whole result as JSON")
    log_import.set_defaults(func=_cmd_import)

    validate = sub.add_parser(
        "validate",
        help="the Great Expectations gate alone, on the tables as they are (audit rows, Data Docs)",
        description="Exit code 1 when a critical expectation fails. Publishes nothing.",
    )
    validate.add_argument("--target", default="local", choices=TARGETS, help="dbt target / profile output")
    validate.set_defaults(func=_cmd_validate)

    restore = sub.add_parser(
        "restore",
        help="put a Delta table back to an earlier version (default: the one the previous publish recorded)",
    )
    restore.add_argument("table", help="schema-qualified table, e.g. marts.fct_daily_funnel")
    restore.add_argument(
        "--version", type=int, default=None, help="the version to restore (describe history)"
    )
    restore.add_argument("--target", default="local", choices=TARGETS, help="dbt target, to re-pin serving")
    restore.set_defaults(func=_cmd_restore)

    info = sub.add_parser("info", help="show settings, Java and the table format this run would use")
    info.set_defaults(func=_cmd_info)

    connectors.add_parser(sub)
    return parser


def jvm_running() -> bool:
    if "pyspark" not in sys.modules:
        return False
    from pyspark import SparkContext

    return SparkContext._gateway is not None


def main(argv: Sequence[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    """Run one command. A Spark JVM the command started is stopped before this returns: it holds
    the embedded metastore's lock until it exits, and `lakehouse a && lakehouse b` must work."""
    jvm_before = jvm_running()
    args = (parser or build_parser()).parse_args(argv)
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
