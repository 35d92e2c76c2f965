"""`lakehouse-dev run`: the runtime's `lakehouse run`, after landing the synthetic sample.

This is what `make run` does on a fresh clone: a production run ingests what producers landed, a
development run first lands a small deterministic sample (LAKEHOUSE_SAMPLE_EVENTS, _DAYS, _SEED)
unless that exact sample has landed already, as one more step of the same run and summary.
"""

from __future__ import annotations

from lakehouse.errors import LakehouseError
from lakehouse.run import pipeline
from lakehouse.run.context import RunContext
from lakehouse.run.steps import STEPS
from lakehouse_dev.generate.cli import describe
from lakehouse_dev.generate.config import GenerateConfig


def sample_step(ctx: RunContext) -> None:
    """Land the default sample unless this exact sample is already in the landing zone."""
    from lakehouse_dev.generate.core import generate_config

    cfg = GenerateConfig.from_env()
    if cfg.scale_events < 100:
        raise LakehouseError("LAKEHOUSE_SAMPLE_EVENTS must be at least 100")
    result = generate_config(cfg, ctx.settings.landing_dir)
    ctx.extra_figures.update(
        generation_tag=result.tag,
        generation_skipped=result.skipped,
        generated_events=result.events,
        generated_lines=result.lines,
    )
    print(f"  {describe(result)}")


def run_with_sample(target: str) -> int:
    if target == "cluster":  # executors on the loopback cluster, unless a master is given
        from lakehouse_dev.cluster import use_cluster

        use_cluster()
    return pipeline.run(target=target, steps=[("generate", sample_step), *STEPS])
