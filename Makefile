# Sales-pipeline warehouse. `make demo` is all a new user needs; see README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.8
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export PYTHONPATH := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: demo test test-fast run ui bench eval-checks lint lock reset-cursors setup clean

$(VENV)/.installed: requirements.lock
	@echo "==> Setting up $(VENV) with the pinned dependencies (requirements.lock)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check uv==$(UV_VERSION) 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	@$(VENV)/bin/uv pip install -q --python $(PY) -r requirements.lock
	@touch $@

setup: $(VENV)/.installed
	@$(PY) -m orchestration.instance

demo: setup
	@$(PY) -m cli.main demo

test: setup
	@$(PY) -m pytest

# The edit loop (< 1 min): every test but the `slow` ones (full Dagster runs, dbt builds).
test-fast: setup
	@$(PY) -m pytest -m "not slow" -q

run: setup
	@$(PY) -m cli.main run

ui: setup
	@echo "==> Dagster UI on http://127.0.0.1:3000 (Ctrl-C to stop)"
	@$(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: setup
	@$(PY) -m benchmarks.sync_bench

eval-checks: setup
	@$(PY) -m evaluation.eval_checks $(EVAL_ARGS)

# ruff (lint + format), mypy on the Dagster-free packages (pyproject.toml), sqlfluff on the dbt
# models (.sqlfluff; dbt templater, compiled into a scratch target so dbt_project/target stays).
lint: setup
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
		DBT_DUCKDB_PATH=$$tmp/lint.duckdb DBT_TARGET_PATH=$$tmp/target DBT_LOG_PATH=$$tmp/logs \
		$(VENV)/bin/sqlfluff lint dbt_project/models --disable-progress-bar --nocolor

reset-cursors: setup
	@$(PY) -m cli.main reset-cursors --source $(or $(SOURCE),hubspot) $(if $(STREAM),--stream $(STREAM))

# Re-resolve requirements.in into requirements.lock (name==version only, no registry URLs).
lock: $(VENV)/.installed
	@$(VENV)/bin/uv pip compile requirements.in -o requirements.lock --no-header --quiet

clean:
	rm -rf dbt_project/target dbt_project/logs .pytest_cache .mypy_cache .ruff_cache
