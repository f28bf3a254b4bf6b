"""dbt's unit tests (the `unit_tests:` blocks beside the models) pass, every one of them.

The pipeline's `dbt build` leaves them out (`core.dbt_cli.PIPELINE_BUILD_ARGS`): they test the
models' SQL on fixture rows, not the data, so they belong here and not in every data run. They
run once, on a copy of the demo warehouse (dbt reads the column types of each tested model's
inputs from the warehouse, so the upstream relations must exist).
"""

from __future__ import annotations

import json
import shutil

import pytest

from core.dbt_cli import run_dbt

pytestmark = pytest.mark.slow


def test_every_dbt_unit_test_passes(demo_warehouse, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse.warehouse, warehouse)
    target = tmp_path / "dbt_target"
    done = run_dbt(
        "test",
        "--select",
        "resource_type:unit_test",
        "--target-path",
        str(target),
        "--log-path",
        str(tmp_path / "logs"),
        "--vars",
        json.dumps({"as_of_date": demo_warehouse.as_of_date.isoformat()}),
        warehouse=warehouse,
        capture=True,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    defined = set(json.loads((target / "manifest.json").read_text())["unit_tests"])
    results = json.loads((target / "run_results.json").read_text())["results"]
    ran = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert len(defined) >= 20, f"only {len(defined)} unit tests defined: the YAML's unit_tests blocks were not parsed"
    assert set(ran) == defined, f"unit tests not run: {sorted(defined - set(ran))}"
    assert all(status == "pass" for status in ran.values()), {u: s for u, s in ran.items() if s != "pass"}
