# The two commands a newcomer needs: `make run` serves on the embedded default store,
# `make test` runs the whole suite. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run demo test lint typecheck unit schema settings-table bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/gql-analytics serve --host $(HOST) --port $(PORT) --no-auth

demo: $(VENV)/.installed
	$(BIN)/gql-analytics demo --url http://$(HOST):$(PORT)/graphql

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

unit: $(VENV)/.installed-dev
	$(BIN)/pytest -q

test: lint typecheck unit

schema: $(VENV)/.installed
	$(BIN)/gql-analytics export-schema > schema.graphql

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/metric_query.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python -m bench.kafka_ingest
	$(BIN)/python -m bench.mongodb_writes
	$(BIN)/python -m bench.analysis
	$(BIN)/python -m bench.observability
	$(BIN)/python -m bench.dashboard
	$(BIN)/python -m bench.live
	$(BIN)/python -m bench.stalls
	$(BIN)/python -m bench.funnel
	$(BIN)/python -m bench.storage
	$(BIN)/python -m bench.breakdown

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

settings-table: $(VENV)/.installed
	$(BIN)/python -m gql_analytics.settings README.md
