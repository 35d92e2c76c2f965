"""Development tools around the lakehouse runtime, kept out of its import graph: the synthetic data
generator, the benchmark harness and the loopback Spark cluster (`lakehouse-dev`). They import the
runtime (`lakehouse`); the runtime never imports them."""

from __future__ import annotations
