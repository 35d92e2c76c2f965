"""Synthetic e-commerce data: a clickstream and CDC feeds, dirty on purpose, landed as JSON lines.

`generate(scale_events=..., days=..., seed=..., out_dir=...)` is the entry point (also used by the
benchmark); `lakehouse generate` is its command line. Exports load lazily so the CLI starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakehouse_dev.generate.config import GenerateConfig, parse_scale
    from lakehouse_dev.generate.core import GenerationResult, generate, generate_config

_EXPORTS = {
    "GenerateConfig": "lakehouse_dev.generate.config",
    "parse_scale": "lakehouse_dev.generate.config",
    "GenerationResult": "lakehouse_dev.generate.core",
    "generate": "lakehouse_dev.generate.core",
    "generate_config": "lakehouse_dev.generate.core",
}
__all__ = ["GenerateConfig", "GenerationResult", "generate", "generate_config", "parse_scale"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
