"""`lakehouse-dev generate`: land synthetic data for `lakehouse ingest`."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import TYPE_CHECKING

from lakehouse.config import Settings
from lakehouse_dev.generate.config import GenerateConfig, parse_scale

if TYPE_CHECKING:
    from lakehouse_dev.generate.core import GenerationResult


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


TARGETS = ("files", "postgres", "kafka")


def _targets(text: str) -> list[str]:
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in TARGETS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"{text!r}: choose from {', '.join(TARGETS)} (comma-separated)")
    return chosen


def add_parser(sub: argparse._SubParsersAction) -> None:
    defaults = GenerateConfig()
    cmd = sub.add_parser(
        "generate",
        help="land synthetic clickstream + CDC data (JSON lines by arrival date) for `lakehouse ingest`",
        description="Deterministic per --seed; re-running the same settings is a no-op. Different settings "
        "land an additional generation next to the existing one.",
    )
    cmd.add_argument(
        "--scale", type=parse_scale, default=defaults.scale_events, help="events, e.g. 60k or 10M"
    )
    cmd.add_argument("--days", type=int, default=defaults.days)
    cmd.add_argument("--seed", type=int, default=defaults.seed)
    cmd.add_argument("--start-date", type=_date, default=defaults.start_date)
    cmd.add_argument("--users", type=int, default=None, help="default: one per ~25 events")
    cmd.add_argument("--products", type=int, default=None, help="default: one per ~100 events (200..20,000)")
    cmd.add_argument("--duplicate-rate", type=float, default=defaults.duplicate_rate)
    cmd.add_argument("--late-rate", type=float, default=defaults.late_rate)
    cmd.add_argument("--malformed-rate", type=float, default=defaults.malformed_rate)
    cmd.add_argument("--bot-share", type=float, default=defaults.bot_event_share)
    cmd.add_argument("--gzip", action="store_true", help="write .jsonl.gz files")
    cmd.add_argument("--out", default=None, help="landing directory (default: $LAKEHOUSE_HOME/landing)")
    cmd.add_argument(
        "--to",
        type=_targets,
        default=["files"],
        help="files (the landing zone), postgres (the shop's history as real DML, captured by Debezium), "
        "kafka (the clickstream topic); comma-separated, e.g. postgres,kafka (see `lakehouse-dev streaming`)",
    )
    cmd.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    from lakehouse_dev.generate.core import generate_config

    cfg = GenerateConfig(
        scale_events=args.scale,
        days=args.days,
        seed=args.seed,
        start_date=args.start_date,
        users=args.users,
        products=args.products,
        duplicate_rate=args.duplicate_rate,
        late_rate=args.late_rate,
        malformed_rate=args.malformed_rate,
        bot_event_share=args.bot_share,
        gzip=args.gzip,
    )
    sinks = [target for target in args.to if target != "files"]
    if sinks:
        from lakehouse_dev.generate import sinks as streaming_sinks

        result = streaming_sinks.write(cfg, sinks)
        print(describe(result))
        print(json.dumps(result.as_dict(), indent=2, default=str))
    if "files" in args.to:
        result = generate_config(cfg, args.out or Settings.from_env().landing_dir)
        print(describe(result))
        print(json.dumps(result.as_dict(), indent=2, default=str))
    return 0


def describe(result: GenerationResult) -> str:
    cdc = sum(n for feed, n in result.lines.items() if feed != "events")
    state = "already landed, skipped" if result.skipped else f"{result.seconds:.1f}s"
    return (
        f"generation {result.tag}: {result.lines.get('events', 0):,} event lines "
        f"({result.events:,} events, {result.sessions:,} sessions, {result.orders:,} orders), "
        f"{cdc:,} CDC lines in {result.files} files ({state})"
    )
