"""Synthetic e-commerce data: a clickstream and CDC feeds, dirty on purpose, landed as JSON lines.

`generate(scale_events=..., days=..., seed=..., out_dir=...)` is the entry point (also used by the
benchmark); `lakehouse generate` is its command line.
"""

from __future__ import annotations

from lakehouse.generate.config import GenerateConfig, parse_scale
from lakehouse.generate.core import GenerationResult, generate, generate_config

__all__ = ["GenerateConfig", "GenerationResult", "generate", "generate_config", "parse_scale"]
