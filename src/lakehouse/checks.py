"""One check result, whoever ran the check (ingestion, dbt, the recommender's evaluation, Great
Expectations): what was checked, on which table, and how it went."""

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
SOURCE_INGEST = "ingest"
SOURCE_RECO = "recommendation quality"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one object (a `schema.table`, or a dbt node's name)."""

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
        """A failed critical check: it fails the run and withholds what is built from its object."""
        return self.failed and self.severity == CRITICAL

    def describe(self) -> str:
        """One line naming the check, for people (`make run` prints it under FAILED)."""
        rows = f", {self.failing_rows} failing rows" if self.failing_rows else ""
        detail = f": {self.detail}" if self.detail else ""
        kind = {SOURCE_GX: "expectation", SOURCE_DBT: "dbt"}.get(self.source, self.source)
        return f"{kind} {self.object} {self.check} [{self.severity} {self.status}{rows}]{detail}"


def count(results: Iterable[CheckResult], *, failed: bool, severity: str | None = None) -> int:
    return sum(1 for r in results if r.failed == failed and (severity is None or r.severity == severity))
