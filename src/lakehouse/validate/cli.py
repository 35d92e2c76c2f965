"""`lakehouse validate`: the quality gate alone, on the tables as they are now."""

from __future__ import annotations

import argparse
from typing import Any


def _cmd_validate(args: argparse.Namespace) -> int:
    from lakehouse.validate.steps import validate_command

    return validate_command()


def add_parser(sub: Any) -> None:
    validate = sub.add_parser(
        "validate",
        help="run the Great Expectations gate on bronze, marts and features; audit rows and Data Docs",
        description="Runs every expectation suite on the built tables (after `dbt build`), appends the "
        "results to audit.check_results and writes Data Docs under the dbt target directory. "
        "Exit code 1 when a critical expectation fails.",
    )
    validate.set_defaults(func=_cmd_validate)
