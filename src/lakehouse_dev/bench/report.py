"""Benchmark output: `results.json`, a printed table and a PNG chart, all from one results dict."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakehouse.recommend.run_step import quality_line
from lakehouse_dev.bench.memory import MemorySample


@dataclass(frozen=True)
class Target:
    """A benchmark target from issue 7: `key` must be at least (or at most) `bound`; a target with a
    `min_scale` is judged only on runs of at least that many events."""

    key: str
    label: str
    bound: float
    at_least: bool
    min_scale: int = 0

    def met(self, value: float) -> bool:
        return value >= self.bound if self.at_least else value <= self.bound

    @property
    def text(self) -> str:
        return f"{'>=' if self.at_least else '<='} {self.bound:g}"


TARGETS = (
    Target("udf_vectorized_speedup", "(a) pandas UDF vs row-at-a-time UDF", 10.0, at_least=True),
    Target("tuned_vs_default_speedup", "(b) tuned session vs Spark defaults", 1.5, at_least=True),
    Target("incremental_vs_full_ratio", "(c) incremental (1 new day) / full refresh", 0.25, at_least=False),
    Target("dbt_vs_handwritten_ratio", "(d) dbt / hand-written PySpark", 1.3, at_least=False),
    Target("arrow_topandas_speedup", "(e) toPandas Arrow vs plain", 10.0, at_least=True),
    Target("end_to_end_seconds", "10M events end to end (seconds)", 1200.0, False, min_scale=10_000_000),
)


def write_results(results: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "results.json"
    path.write_text(json.dumps(results, indent=2, sort_keys=True, default=str) + "\n")
    return path


def target_verdicts(results: dict[str, Any]) -> dict[str, str]:
    """'met', 'missed' or 'not measured' for every target."""
    verdicts = {}
    for target in TARGETS:
        value = results.get(target.key)
        if not isinstance(value, int | float) or results.get("scale_events", 0) < target.min_scale:
            verdicts[target.key] = "not measured"
        else:
            verdicts[target.key] = "met" if target.met(float(value)) else "missed"
    return verdicts


def format_table(results: dict[str, Any]) -> str:
    """The human summary: stage times, slowest dbt models, memory peaks, and the ratios against targets."""
    lines = [f"benchmark: {results.get('scale_events', 0):,} events ({results.get('data_source', '?')})", ""]
    lines.append(f"{'stage':<34}{'seconds':>10}{'cpu busy':>10}")
    busy = results.get("stage_cpu_busy_share", {})
    for stage, seconds in results.get("stage_seconds", {}).items():
        share = f"{busy[stage]:>10.0%}" if stage in busy else ""
        lines.append(f"  {stage:<32}{seconds:>10.1f}{share}")
    if "end_to_end_seconds" in results:
        lines.append(f"  {'end to end':<32}{results['end_to_end_seconds']:>10.1f}")
        lines.append(f"  {'events per second':<32}{results.get('end_to_end_events_per_s', 0):>10,.0f}")
    kafka = results.get("kafka_ingest")
    if kafka:
        lines += ["", f"{'into bronze (records per second)':<34}{'per s':>10}{'seconds':>10}"]
        lines.append(
            f"  {'landed files':<32}{kafka['file_lines_per_s']:>10,.0f}{kafka['file_ingest_seconds']:>10.1f}"
        )
        lines.append(
            f"  {'kafka topic':<32}{kafka['kafka_events_per_s']:>10,.0f}{kafka['ingest_seconds']:>10.1f}"
        )
    models = results.get("dbt_model_seconds", {})
    if models:
        lines += ["", f"{'slowest dbt models':<34}{'seconds':>10}"]
        for name, seconds in sorted(models.items(), key=lambda item: -item[1])[:8]:
            lines.append(f"  {name:<32}{seconds:>10.1f}")
    quality = results.get("recommendations", {})
    if "reco_hit_rate_at_10" in quality:
        lines += ["", f"{quality_line(quality)} ({quality['reco_users_evaluated']:,} users evaluated)"]
    peaks = results.get("peak_rss_mb", {})
    if peaks:
        lines += ["", f"{'peak RSS':<34}{'MiB':>10}"]
        for group, mb in peaks.items():
            lines.append(f"  {group:<32}{mb:>10,.0f}")
    verdicts = target_verdicts(results)
    lines += ["", f"{'ratio':<44}{'value':>8}  {'target':<8}  verdict"]
    for target in TARGETS:
        value = results.get(target.key)
        shown = f"{value:>8.2f}" if isinstance(value, int | float) else f"{'-':>8}"
        lines.append(f"  {target.label:<42}{shown}  {target.text:<8}  {verdicts[target.key]}")
        lines += [f"      {line}" for line in target_details(target.key, results)]
    return "\n".join(lines)


def target_details(key: str, results: dict[str, Any]) -> list[str]:
    """The lines under a ratio that say what bounds it."""
    details = []
    if key == "incremental_vs_full_ratio":
        for ratio_key, label in (
            ("no_new_data_vs_full_ratio", "floor: no new data / full refresh"),
            ("incremental_sql_chain_vs_full_ratio", "longest SQL chain / full refresh"),
        ):
            if isinstance(results.get(ratio_key), int | float):
                details.append(f"{label:<38}{results[ratio_key]:>8.2f}")
        if results.get("new_day_lines"):
            details.append(f"the new day: {new_day_text(results['new_day_lines'])}")
    if key == "dbt_vs_handwritten_ratio" and isinstance(results.get("dbt_marts_chain_seconds"), int | float):
        details.append(
            f"the models' longest chain took {results['dbt_marts_chain_seconds']:.1f} s "
            f"of dbt's {results['dbt_marts_seconds']:.1f} s; the hand-written job "
            f"{results['handwritten_marts_seconds']:.1f} s"
        )
    return details


def new_day_text(lines: dict[str, int]) -> str:
    """What (c)'s new day delivered: `31,372 event lines; 391 / 59 / 621 user / product / order changes`."""
    feeds = ("users", "products", "orders")
    changes = " / ".join(f"{lines.get(f'cdc_{feed}', 0):,}" for feed in feeds)
    return f"{lines.get('events', 0):,} event lines; {changes} user / product / order changes"


def draw_chart(results: dict[str, Any], samples: list[MemorySample], path: Path) -> Path:
    """Four panels: stage times, slowest dbt models, ratios against their targets, RSS over time."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(14, 9))
    figure.suptitle(f"lakehouse benchmark: {results.get('scale_events', 0):,} events", fontsize=14)

    stages = results.get("stage_seconds", {})
    stage_axis = axes[0][0]
    stage_axis.barh(list(stages), list(stages.values()), color="#4c72b0")
    stage_axis.invert_yaxis()
    stage_axis.set_title("wall time per stage (s)")

    model_axis = axes[0][1]
    models = sorted(results.get("dbt_model_seconds", {}).items(), key=lambda item: -item[1])[:12]
    model_axis.barh([name for name, _ in models], [seconds for _, seconds in models], color="#55a868")
    model_axis.invert_yaxis()
    model_axis.set_title("dbt build: slowest models (s)")
    if not models:
        model_axis.text(0.5, 0.5, "no dbt models measured", ha="center", va="center")

    ratio_axis = axes[1][0]
    measured = [t for t in TARGETS if not t.min_scale and isinstance(results.get(t.key), int | float)]
    values = [float(results[t.key]) for t in measured]
    colors = ["#55a868" if t.met(v) else "#c44e52" for t, v in zip(measured, values, strict=True)]
    positions = range(len(measured))
    ratio_axis.bar(positions, values, color=colors)
    ratio_axis.scatter(
        positions, [t.bound for t in measured], marker="_", s=900, color="black", label="target"
    )
    ratio_axis.set_xticks(list(positions), [t.label[:3] for t in measured], fontsize=8)
    ratio_axis.set_yscale("log")
    ratio_axis.set_title("side-by-side ratios (green: target met)")
    ratio_axis.set_ylim(top=max([*values, *(t.bound for t in measured), 1.0]) * 3)
    ratio_axis.legend(loc="upper left")
    for position, value in zip(positions, values, strict=True):
        ratio_axis.annotate(f"{value:.2f}", (position, value), ha="center", va="bottom", fontsize=9)

    memory_axis = axes[1][1]
    if samples:
        times = [s.at_seconds for s in samples]
        memory_axis.plot(times, [s.jvm_mb for s in samples], label="driver JVM")
        memory_axis.plot(times, [s.python_workers_mb for s in samples], label="Python workers")
        memory_axis.plot(times, [s.driver_python_mb for s in samples], label="driver Python")
        memory_axis.legend(loc="upper left")
    memory_axis.set_title("RSS over the run (MiB)")
    memory_axis.set_xlabel("seconds")

    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
