"""`lakehouse ingest` and the `ingest` step of `lakehouse run`."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from lakehouse.config import Settings

if TYPE_CHECKING:
    from lakehouse.ingest.bronze import IngestResult
    from lakehouse.pipeline import RunContext


def add_parser(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "ingest",
        help="stream new landing files into bronze, exactly once (bad lines go to bronze.quarantine)",
    )
    cmd.add_argument(
        "--max-files-per-batch",
        type=int,
        default=None,
        help="micro-batch size in files (default: up to 512 MiB of landed files per batch)",
    )
    cmd.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    from lakehouse.ingest.bronze import ingest
    from lakehouse.spark import get_spark

    settings = Settings.from_env()
    result = ingest(get_spark("lakehouse-ingest"), settings, args.max_files_per_batch)
    for line in describe(result):
        print(line)
    print(json.dumps(result.summary(), indent=2, default=str))
    return 0 if result.reconciled else 1


def describe(result: IngestResult) -> list[str]:
    lines = []
    for feed, c in result.feeds.items():
        verdict = "ok" if c.reconciled else "MISMATCH"
        counted = f" ({c.files_without_manifest:,} files without a manifest: lines counted)"
        lines.append(
            f"{feed}: landed {c.landed:,} = bronze {c.bronze:,} + quarantined {c.quarantined:,} [{verdict}]; "
            f"this run +{c.added_bronze:,} bronze, +{c.added_quarantined:,} quarantined"
            + (counted if c.files_without_manifest else "")
        )
        lines.extend(f"  {feed}: {mismatch}" for mismatch in c.mismatched_files)
    return lines


def ingest_step(ctx: RunContext) -> None:
    """Ingest what landed and reconcile: landed lines = bronze rows + quarantined rows, per feed."""
    from lakehouse.ingest.bronze import ingest
    from lakehouse.spark import get_spark

    result = ingest(get_spark(), ctx.settings)
    ctx.summary.update(result.summary())
    for feed, counts in result.feeds.items():
        if not counts.reconciled:
            ctx.failed_checks.append(
                f"ingest {feed}: landed {counts.landed} != "
                f"bronze {counts.bronze} + quarantined {counts.quarantined}"
                + "".join(f"; {mismatch}" for mismatch in counts.mismatched_files)
            )
    for line in describe(result):
        print(f"  {line}")
