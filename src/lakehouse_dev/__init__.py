"""Development tools around the lakehouse runtime, kept out of its import graph: the synthetic data
generator, the benchmark harness, the loopback Spark cluster and the streaming path's local
services: Kafka, PostgreSQL, Debezium (`lakehouse-dev`). They import the runtime (`lakehouse`);
the runtime never imports them."""

from __future__ import annotations
