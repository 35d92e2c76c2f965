# dbt + PySpark lakehouse. `make` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ADAPTER := adapters/dbt-sparksession
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml $(ADAPTER)/pyproject.toml | cksum | cut -d' ' -f1)
TARGET ?= local
DOCS_PORT ?= 8080
# `make bench`: events to generate, and a state dir of its own (the harness empties it first)
SCALE ?= 1000000
BENCH_HOME ?= $(CURDIR)/.lakehouse/bench
# the benchmark's driver heap: 10M events cached for the tuned-vs-default comparison need more than 4g
BENCH_DRIVER_MEMORY ?= 8g
# where dbt writes (and `dbt docs serve` reads) the docs site: dbt's target dir
DOCS_DIR = $(or $(DBT_TARGET_PATH),target)
export DBT_PROFILES_DIR := $(CURDIR)/profiles
export DBT_PROJECT_DIR := $(CURDIR)
export PATH := $(CURDIR)/$(BIN):$(PATH)


.PHONY: help setup lock run test test-adapter adapter-wheel adapter-venv lint format docs serve-docs clean bench

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements.lock pyproject.toml $(ADAPTER)/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "Python 3.11+ is required (found " + sys.version.split()[0] + ")")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check "uv==0.13.9"
	@$(BIN)/uv pip install -q -p $(BIN)/python -r requirements.lock
	@$(BIN)/uv pip install -q -p $(BIN)/python --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@
	@echo "environment ready in $(VENV)"

# the Delta connector's jars, resolved from Maven Central once and verified on this Spark (.jars/);
# where Maven cannot be reached setup says so in one line and runs fall back to Parquet
CONNECTORS := .jars/delta/connector.json
$(CONNECTORS): $(STAMP)
	@$(BIN)/lakehouse connectors fetch --optional delta

setup: $(STAMP) $(CONNECTORS) ## Create .venv with the pinned dependencies and fetch the Delta connector (idempotent)

lock: ## Re-pin requirements.lock from pyproject.toml (after changing dependencies)
	$(BIN)/uv pip compile pyproject.toml --extra dev -p 3.11 -o requirements.lock --no-header -q

run: setup ## Land the sample, then build the lakehouse on the embedded local Spark (TARGET=local|ci|cluster)
	$(BIN)/lakehouse-dev run --target $(TARGET)

# the Parquet fallback's pass: the whole pipeline build and dbt's adapter suite on the project's session again
PARQUET_TESTS := tests/test_pipeline.py tests/adapter

test: setup ## The test suite on real Spark: all of it on Delta, then the pipeline and adapter suite on Parquet
	@echo "== the suite, on the resolved table format (Delta when make setup fetched its connector)"
	time $(BIN)/pytest -m "not cluster and not streaming"
	@echo "== the Parquet fallback: the pipeline build and dbt's adapter suite, LAKEHOUSE_TABLE_FORMAT=parquet"
	time LAKEHOUSE_TABLE_FORMAT=parquet $(BIN)/pytest -m "not cluster and not streaming" $(PARQUET_TESTS)

# The adapter (adapters/dbt-sparksession) is a package of its own: `make test-adapter` runs its suite
# against its built wheel in a virtualenv of its own, where `lakehouse` is not installed (its
# tests/test_isolation.py checks), with the versions requirements.lock pins. It is not part of
# `make test` (54 cases took 11 minutes on Delta on a busy 2-core machine; the pull-request workflow
# runs it as a job of its own, on Delta and on Parquet).
# The virtualenv is made again only when the lock or the adapter's pyproject changes; each run
# reinstalls the freshly built wheel. ADAPTER_FORMAT empty: Delta when `make setup` verified the
# connector, else Parquet.
ADAPTER_VENV := $(ADAPTER)/.venv
ADAPTER_STAMP := $(ADAPTER_VENV)/.installed-$(shell cat requirements.lock $(ADAPTER)/pyproject.toml | cksum | cut -d' ' -f1)
ADAPTER_WHEEL := $(ADAPTER)/dist/dbt_sparksession-*.whl
ADAPTER_FORMAT ?=

adapter-wheel: $(STAMP) ## Build the sparksession adapter's wheel into adapters/dbt-sparksession/dist/
	@rm -rf $(ADAPTER)/dist
	$(BIN)/uv build -q --wheel --out-dir $(ADAPTER)/dist $(ADAPTER)

$(ADAPTER_STAMP): requirements.lock $(ADAPTER)/pyproject.toml | adapter-wheel
	$(BIN)/uv venv -q --clear -p $(BIN)/python $(ADAPTER_VENV)
	$(BIN)/uv pip install -q -p $(ADAPTER_VENV)/bin/python -c <(grep -v '^-e ' requirements.lock) \
		"$$(echo $(ADAPTER_WHEEL))[test]"
	@rm -f $(ADAPTER_VENV)/.installed-* && touch $@

adapter-venv: adapter-wheel $(ADAPTER_STAMP) ## The adapter's own virtualenv with its freshly built wheel (no lakehouse, no Spark started)
	@$(BIN)/uv pip install -q -p $(ADAPTER_VENV)/bin/python --reinstall-package dbt-sparksession --no-deps $(ADAPTER_WHEEL)

test-adapter: adapter-venv $(CONNECTORS) ## dbt's adapter suite on the adapter's wheel, without lakehouse (ADAPTER_FORMAT=delta|parquet)
	format=$(or $(ADAPTER_FORMAT),$$(test -f $(CONNECTORS) && echo delta || echo parquet)); \
		cd $(ADAPTER) && SPARKSESSION_TEST_FORMAT=$$format SPARKSESSION_TEST_DELTA_JARS=$(CURDIR)/.jars/delta \
		.venv/bin/pytest

.PHONY: cluster-up cluster-down test-cluster
cluster-up: setup ## Start Spark on 127.0.0.1: metastore, master, 2 workers, Thrift server (idempotent)
	$(BIN)/lakehouse-dev cluster up

cluster-down: setup ## Stop the loopback cluster and every process it started
	$(BIN)/lakehouse-dev cluster down

test-cluster: setup ## Cluster up, build via the cluster and thrift targets, compare with local, down
	$(BIN)/pytest tests/cluster -m cluster -q

# the real-time path: PostgreSQL (Debian's packages, installed when missing), and from Maven Central
# once: Kafka and Kafka Connect, Debezium's PostgreSQL connector, Spark's Kafka source (.jars/)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
.PHONY: streaming-setup streaming-up streaming-down test-streaming
streaming-setup: setup ## Fetch Kafka, Connect, Debezium and Spark's Kafka source once; install PostgreSQL if missing
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || { \
	  echo "installing PostgreSQL (apt-get install postgresql; no cluster of its own is created)"; \
	  $(SUDO) mkdir -p /etc/postgresql-common/createcluster.d && \
	  echo "create_main_cluster = false" | $(SUDO) tee /etc/postgresql-common/createcluster.d/lakehouse.conf >/dev/null && \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; }
	$(BIN)/lakehouse-dev streaming setup

streaming-up: streaming-setup ## Start Kafka (KRaft), PostgreSQL and Debezium on 127.0.0.1 (idempotent)
	$(BIN)/lakehouse-dev streaming up

streaming-down: setup ## Stop every streaming service and check that no process is left
	$(BIN)/lakehouse-dev streaming down

test-streaming: streaming-setup ## up, generate into the shop and topic, ingest from Kafka, dbt build, equality, faults, down
	time $(BIN)/pytest tests/streaming -m streaming -q

# Kafka → bronze beside the files once `make streaming-setup` has fetched the broker (BENCH_KAFKA= skips it)
BENCH_KAFKA ?= $(if $(wildcard .jars/kafka-broker/manifest.json),--kafka)
bench: setup ## Benchmark SCALE events (default 1,000,000): stage times, memory, ratios -> target/bench/, docs/performance.md
	LAKEHOUSE_HOME=$(BENCH_HOME) LAKEHOUSE_DRIVER_MEMORY=$(BENCH_DRIVER_MEMORY) $(BIN)/lakehouse-dev bench --scale $(SCALE) --doc docs/performance.md $(BENCH_KAFKA)

lint: setup ## Every pre-commit hook on every file: hygiene, ruff, ruff-format, import layering, sqlfluff
	$(BIN)/pre-commit run --all-files --show-diff-on-failure

format: setup ## Apply ruff format and sqlfluff fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	.ci/sqlfluff fix .

docs: setup ## Generate the dbt docs site into target/ (after `make run`: the catalog reads the built tables)
	$(BIN)/dbt docs generate --static --selector everything --target $(TARGET)

serve-docs: setup ## Serve the docs site on http://127.0.0.1:$(DOCS_PORT) (runs `make docs` first if there is none)
	@test -f "$(DOCS_DIR)/catalog.json" || $(MAKE) --no-print-directory docs
	$(BIN)/dbt docs serve --port $(DOCS_PORT) --host 127.0.0.1 --no-browser

clean: ## Remove generated state: target/, logs/, .lakehouse/ (warehouse, metastore, landing)
	rm -rf target logs .lakehouse dbt_packages
