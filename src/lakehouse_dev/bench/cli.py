"""`lakehouse bench`: the benchmark harness's command line."""

from __future__ import annotations

import argparse

from lakehouse_dev.bench import DEFAULT_MICRO_ROWS, DEFAULT_SCALE


def add_parser(sub: argparse._SubParsersAction) -> None:
    from lakehouse_dev.generate.config import parse_scale

    bench = sub.add_parser(
        "bench",
        help="benchmark: stage times, peak memory and side-by-side ratios in one run (results.json + PNG)",
        description="Generates SCALE events, ingests them, builds and validates the lakehouse, then measures "
        "an incremental day against a full refresh, dbt against hand-written PySpark, and the UDF, "
        "session-tuning and Arrow micro-benchmarks. Writes <dbt target>/bench/results.json and bench.png. "
        "Empties LAKEHOUSE_HOME first, so give it a directory of its own.",
    )
    bench.add_argument(
        "--scale", type=parse_scale, default=DEFAULT_SCALE, help="events, e.g. 1M (default) or 10M"
    )
    bench.add_argument(
        "--days",
        type=int,
        default=30,
        help="days delivered before the new day (one more day is generated and held back as the new day)",
    )
    bench.add_argument("--seed", type=int, default=42)
    bench.add_argument(
        "--micro-rows",
        type=parse_scale,
        default=DEFAULT_MICRO_ROWS,
        help="rows for the UDF and toPandas comparisons (capped at --scale)",
    )
    bench.add_argument(
        "--repeats", type=int, default=1, help="runs per micro-benchmark side; the best counts"
    )
    bench.add_argument(
        "--micro-only",
        action="store_true",
        help="only the micro-benchmarks, on synthetic events (no generate/ingest/dbt)",
    )
    bench.add_argument(
        "--end-to-end-only",
        action="store_true",
        help="only generate, ingest, dbt build and validate (what the Parquet comparison runs)",
    )
    bench.add_argument(
        "--no-parquet-comparison",
        action="store_true",
        help="on Delta, do not run the end-to-end stages again on Parquet "
        "(delta_vs_parquet_end_to_end_ratio)",
    )
    bench.add_argument(
        "--kafka",
        action="store_true",
        help="also produce the clickstream to Kafka and time its ingestion into bronze, beside the files' "
        "(starts the broker if needed; `make streaming-setup` first)",
    )
    bench.add_argument(
        "--ingest-only",
        action="store_true",
        help="only generate and ingest: landed files (and Kafka with --kafka) into bronze "
        "(not kept as the scale's results for docs/performance.md)",
    )
    bench.add_argument("--target", default="local", help="dbt target")
    bench.add_argument(
        "--doc", default=None, help="write the performance document here (make bench: docs/performance.md)"
    )
    bench.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    from lakehouse_dev.bench import report
    from lakehouse_dev.bench.runner import BenchOptions, run_bench

    options = BenchOptions(
        scale_events=args.scale,
        days=args.days,
        seed=args.seed,
        micro_rows=args.micro_rows,
        repeats=args.repeats,
        end_to_end=not args.micro_only,
        target=args.target,
        only_end_to_end=args.end_to_end_only,
        compare_parquet=not args.no_parquet_comparison,
        kafka=args.kafka,
        ingest_only=args.ingest_only,
    )
    results = run_bench(options)
    print(report.format_table(results))
    print(f"\nresults: {results['results_json']}\nchart:   {results['chart_png']}")
    if args.doc and not (options.only_end_to_end or options.ingest_only):
        from pathlib import Path

        from lakehouse_dev.bench import document
        from lakehouse_dev.bench.runner import results_dir

        print(f"document: {document.write(results_dir(), Path(args.doc))}")
    return 0
