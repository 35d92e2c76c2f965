"""What a run knows: its settings and what each step produced, typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lakehouse.checks import CheckResult
from lakehouse.config import Settings

if TYPE_CHECKING:
    from lakehouse.dbt_runner import DbtOutcome
    from lakehouse.ingest.bronze import IngestResult
    from lakehouse.recommend.run_step import RecoQuality
    from lakehouse.validate.gate import GateReport
    from lakehouse.validate.publish import Publication


@dataclass
class RunContext:
    target: str
    settings: Settings
    run_id: str
    dbt_selection: list[str] = field(default_factory=list)  # e.g. ["--select", "fct_events"]; all by default
    ingest: IngestResult | None = None
    dbt: DbtOutcome | None = None
    reco: RecoQuality | None = None
    gate: GateReport | None = None
    publication: Publication | None = None
    # figures of steps outside the runtime (the development tools' sample landing), as reported
    extra_figures: dict[str, Any] = field(default_factory=dict)

    def failures(self) -> list[CheckResult]:
        """Every failed blocking check of the run so far, whichever step found it."""
        found: list[CheckResult] = []
        if self.ingest is not None:
            found += self.ingest.failures()
        if self.dbt is not None:
            found += self.dbt.failed
        if self.reco is not None:
            found += self.reco.failures
        if self.gate is not None:
            found += [result for result in self.gate.results if result.blocking]
        return found
