"""The per-deal chain's starting point, shared by the incremental test and the dbt unit tests.

One dbt invocation on a copy of the demo warehouse (`demo_warehouse`, tests/conftest.py) does two
jobs: it rebuilds every model as a daily run would (the state `test_incremental_by_deal.py` then
changes raw rows in) and runs every dbt unit test (`test_dbt_unit_tests.py` asserts on its
`run_results.json`). Before, the unit tests were a `dbt test` of their own on a second copy: one
more dbt start, full parse and warehouse copy for the same outcome (docs/decisions.md, "make test
under 11 minutes").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT


def dbt(
    warehouse: Path, target: Path, as_of, *args: str, command: str = "run", check: bool = True
) -> subprocess.CompletedProcess:
    """``dbt <command>`` of this project on ``warehouse`` as of ``as_of`` (a real subprocess);
    ``check``: assert that it exited 0."""
    env = {**os.environ, "DBT_DUCKDB_PATH": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    cmd = [str(Path(sys.executable).parent / "dbt"), command, "--project-dir", str(ROOT / "dbt_project")]
    cmd += ["--profiles-dir", str(ROOT / "dbt_project"), "--target-path", str(target)]
    cmd += ["--vars", json.dumps({"as_of_date": as_of.isoformat()}), *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if check:
        assert done.returncode == 0, output_tail(done)
    return done


def output_tail(done: subprocess.CompletedProcess) -> str:
    return done.stdout[-4000:] + done.stderr[-2000:]


@dataclass(frozen=True)
class ChainStart:
    warehouse: Path  # a copy of the demo warehouse, rebuilt; test_incremental_by_deal.py changes it
    target: Path  # that test's dbt target folder (partial parse kept between its invocations)
    unit_tests_defined: frozenset[str]  # unit-test ids of the invocation's manifest
    results: dict[str, str]  # unique_id -> status of every node that invocation ran
    returncode: int
    output: str  # the tail of dbt's output


@pytest.fixture(scope="session")
def chain_start(demo_warehouse, tmp_path_factory: pytest.TempPathFactory) -> ChainStart:
    """Every model rebuilt as of the sandbox's end and every dbt unit test run, in one `dbt build`
    restricted to models and unit tests (no seeds, no data tests: what `dbt run` builds, plus the
    unit tests). Not asserted here: each user asserts what it needs (the incremental test a build
    that exited 0, the unit-test test every unit test's own result)."""
    base = tmp_path_factory.mktemp("chain_start")
    warehouse = base / "warehouse.duckdb"
    shutil.copy(demo_warehouse.warehouse, warehouse)
    target = base / "dbt_target"
    done = dbt(
        warehouse,
        target,
        demo_warehouse.as_of_date,
        "--resource-type",
        "model",
        "--resource-type",
        "unit_test",
        command="build",
        check=False,
    )
    manifest = json.loads((target / "manifest.json").read_text())
    run_results = json.loads((target / "run_results.json").read_text())["results"]
    return ChainStart(
        warehouse=warehouse,
        target=target,
        unit_tests_defined=frozenset(manifest["unit_tests"]),
        results={r["unique_id"]: r["status"] for r in run_results},
        returncode=done.returncode,
        output=output_tail(done),
    )
