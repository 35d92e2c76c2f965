"""One check result, whoever ran the check (Great Expectations or dbt)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

CRITICAL = "critical"
WARNING = "warning"
INFO = "info"

PASS = "pass"
FAIL = "fail"
ERROR = "error"
SKIPPED = "skipped"

SOURCE_GX = "great_expectations"
SOURCE_DBT = "dbt"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one object (a table or a dbt node)."""

    source: str
    object: str
    check: str
    severity: str
    status: str
    failing_rows: int | None = None
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status in (FAIL, ERROR)

    @property
    def blocking(self) -> bool:
        """A failed critical check: it fails the run and stops publishing."""
        return self.failed and self.severity == CRITICAL

    def describe(self) -> str:
        """One line naming the check, for people (`make run` prints it under FAILED)."""
        rows = f", {self.failing_rows} failing rows" if self.failing_rows else ""
        detail = f": {self.detail}" if self.detail else ""
        kind = "expectation" if self.source == SOURCE_GX else "dbt test"
        return f"{kind} {self.object} {self.check} [{self.severity} {self.status}{rows}]{detail}"


def count(results: Iterable[CheckResult], *, failed: bool, severity: str | None = None) -> int:
    return sum(1 for r in results if r.failed == failed and (severity is None or r.severity == severity))
