"""The real-time path's services on loopback: a Kafka broker (KRaft), PostgreSQL as the shop's
operational database, and Debezium's PostgreSQL connector on Kafka Connect, with no Docker.

`lakehouse-dev streaming setup|up|down|status` is the command line (`cli`); `config` holds the ports,
paths and versions; `render` writes every configuration file as text (tested without a JVM);
`jars` fetches the broker, Connect and Debezium once at setup; `services` starts and stops the
processes; `shop` and `topics` are small clients of PostgreSQL and Kafka (`topics` over the
runtime's `lakehouse.ingest.topics`, which names the topics and reads their offsets).
"""
