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

.PHONY: demo test test-engines test-spark test-fast run ui report browser postgres-server bench eval-checks lint lock reset-cursors setup setup-postgres setup-spark clean

$(VENV)/.installed: requirements.lock
	@echo "==> Setting up $(VENV) with the pinned dependencies (requirements.lock)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check uv==$(UV_VERSION) 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	@$(VENV)/bin/uv pip install -q --python $(PY) -r requirements.lock
	@touch $@

# Byte-compiled site-packages, once: with PYTHONDONTWRITEBYTECODE=1 (set on this machine and CI)
# Python caches no .pyc, so every process compiled dagster/dbt from source at each start; a
# `make test` starts ~100 of them (dbt invocations, `make run`s, code servers). `dbt --version`
# 5.1 -> 3.1 s CPU, importing the Dagster definitions 8.8 -> 4.6 s (docs/decisions.md, "make test
# under 11 minutes"). compileall skips files whose .pyc is current.
BYTECODE = $(PY) -m compileall -q -j 0 $(VENV)/lib > /dev/null

$(VENV)/.bytecode: $(VENV)/.installed
	@echo "==> Byte-compiling $(VENV) (once)"
	@$(BYTECODE)
	@touch $@

setup: $(VENV)/.installed $(VENV)/.bytecode
	@$(PY) -m orchestration.instance

# Optional engine extras (WAREHOUSE_TARGET=postgres / spark), never in requirements.lock, so
# `make demo` stays fast. pyspark builds locally (~2 min, ~500 MB). `make test` installs both.
$(VENV)/.postgres: $(VENV)/.installed requirements-postgres.txt
	@echo "==> Installing the PostgreSQL extras (requirements-postgres.txt)"
	@$(VENV)/bin/uv pip install -q --python $(PY) -r requirements-postgres.txt
	@$(BYTECODE)
	@touch $@

$(VENV)/.spark: $(VENV)/.installed requirements-spark.txt
	@echo "==> Installing the Spark extras (requirements-spark.txt; pyspark builds in ~2 min)"
	@$(VENV)/bin/uv pip install -q --python $(PY) -r requirements-spark.txt
	@$(BYTECODE)
	@touch $@

setup-postgres: $(VENV)/.postgres

setup-spark: $(VENV)/.spark

# make reports 2 for any failing recipe; bin/warehouse keeps the command's own exit code.
demo: setup
	@$(PY) -m cli.main demo

# Two xdist workers (TEST_WORKERS=0: one process); tests sharing one expensive run stay on one
# worker (xdist_group marks, tests/conftest.py). Includes the whole pipeline on PostgreSQL
# (marker `postgres`, a throwaway server); the Spark tests (marker `spark`) are `make test-spark`.
TEST_WORKERS ?= 2
test: setup browser setup-postgres postgres-server
	@$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup -m "not engines or postgres"

# The Spark tests: the whole pipeline on Spark local, marts compared with DuckDB's (README
# "Engines"). CI runs it as its own step after `make test` (docs/decisions.md, "Engine tests").
test-spark: setup setup-spark
	@$(PY) -m pytest -m "engines and spark" -v

# Every engine test, PostgreSQL and Spark.
test-engines: setup browser setup-postgres postgres-server setup-spark
	@$(PY) -m pytest -m engines -v

# The edit loop (< 1 min): every test but the `slow` ones (full Dagster runs, dbt builds).
test-fast: setup
	@$(PY) -m pytest -m "not slow and not engines" -q

run: setup
	@$(PY) -m cli.main run

# cli/ui.py runs `dagster dev` in its own process group and stops all of it on Ctrl-C/SIGTERM.
ui: setup
	@echo "==> Dagster UI on http://127.0.0.1:3000 (Ctrl-C to stop)"
	@$(PY) -m cli.ui -h 127.0.0.1 -p 3000

# The HTML report of the published marts (make demo writes it too).
report: setup
	@$(PY) -m warehouse.report

# Headless Chromium for the report's browser test (Debian package; root, as on CI).
browser:
	@command -v chromium > /dev/null || { \
		if [ "$$(id -u)" != 0 ]; then echo "Chromium is missing: run 'sudo apt-get install chromium' (the report test needs it)" >&2; exit 1; fi; \
		echo "==> Installing Chromium (apt-get) for the report test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null; }

# PostgreSQL server binaries for the throwaway test server (Debian package; root, as on CI).
postgres-server:
	@ls /usr/lib/postgresql/*/bin/initdb > /dev/null 2>&1 || command -v initdb > /dev/null || { \
		if [ "$$(id -u)" != 0 ]; then echo "PostgreSQL is missing: run 'sudo apt-get install postgresql' (the PostgreSQL tests need initdb and pg_ctl)" >&2; exit 1; fi; \
		echo "==> Installing the PostgreSQL server (apt-get) for the engine tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql > /dev/null; }

bench: setup
	@$(PY) -m benchmarks.sync_bench
	@$(PY) -m benchmarks.snapshot_bench
	@$(PY) -m benchmarks.scale_bench $(BENCH_ARGS)

# The anomaly checks' power table and false alarms (evaluation/fast/power.py): 3 sizes x 30 seeds;
# EVAL_ARGS="--sizes 300,1500 --seeds 10" for less. Tables in data/eval/power/ (power.md, power.json).
eval-checks: setup
	@$(PY) -m evaluation.fast.power $(EVAL_ARGS)

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
