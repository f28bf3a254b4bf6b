"""The benchmark's plain-SQL reference computes the same marts as dbt: the same rows on every
contract column of each of its 17 marts (HubSpot's rows of the CRM marts; the ad-spend, ROI and
funnel marts whole), on the demo warehouse (the shared end-to-end build)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from benchmarks.reference import REFERENCE_MARTS, REFERENCE_SCHEMA, reference

# reuses the session's demo warehouse; the reference runs once per module (about 2 s with its process)
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
# The demo has hundreds of deals, a dozen stages, a few owners and pipelines and about two years
# of closes: enough rows for the comparison to mean something.
MIN_ROWS = {
    "dim_pipeline_stages": 10,
    "dim_pipelines": 1,
    "dim_owners": 3,
    "fct_deal_stage_history": 100,
    "fct_deals": 100,
    "mart_deal_outcomes_monthly": 10,
    "mart_lead_volume_daily": 100,
    "fct_pipeline_snapshot_daily": 1000,
    "mart_pipeline_by_stage_daily": 300,
    "mart_funnel_bottlenecks_monthly": 30,
    "mart_pipeline_velocity_monthly": 10,
    "mart_stage_conversion_monthly": 40,
    "mart_forecast_monthly": 100,
    "mart_forecast_accuracy": 9,
    "fct_ad_spend_daily": 1000,
    "mart_marketing_roi_monthly": 30,
    "dim_funnel_steps": 6,
}
# Columns of a mart's YAML that are not in the contract: the incremental snapshot's bookkeeping.
NOT_CONTRACT = {"fct_pipeline_snapshot_daily": {"deal_inputs_hash"}}


def contract_columns(model: str) -> list[str]:
    spec = yaml.safe_load((ROOT / "dbt_project" / "models" / "marts" / f"{model}.yml").read_text())
    (node,) = [m for m in spec["models"] if m["name"] == model]
    return [c["name"] for c in node["columns"] if c["name"] not in NOT_CONTRACT.get(model, set())]


def rows(con: duckdb.DuckDBPyConnection, schema: str, model: str, columns: list[str]) -> list[tuple]:
    cols = ", ".join(columns)
    # the reference is HubSpot's (and the ad platforms'); marts without a CRM `source` are compared whole
    where = "where source = 'hubspot'" if "source" in columns else ""
    return con.execute(f"select {cols} from {schema}.{model} {where} order by all").fetchall()


def same_row(a: tuple, b: tuple) -> bool:
    """Equal, doubles to 1e-9 relative: a sum or mean over many rows depends on the order DuckDB
    adds them in (threads), in dbt's build as in the reference."""
    return len(a) == len(b) and all(
        math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9) if isinstance(x, float) and isinstance(y, float) else x == y
        for x, y in zip(a, b, strict=True)
    )


@pytest.fixture(scope="module")
def reference_warehouse(demo_warehouse, tmp_path_factory) -> Path:
    """A copy of the demo warehouse with the reference's marts beside dbt's (computed once)."""
    warehouse = tmp_path_factory.mktemp("reference") / "warehouse.duckdb"
    shutil.copy(demo_warehouse.warehouse, warehouse)
    reference(warehouse, threads=2, as_of=demo_warehouse.as_of_date)
    return warehouse


@pytest.mark.parametrize("model", REFERENCE_MARTS)
def test_reference_rows_equal_dbts(reference_warehouse, model):
    columns = contract_columns(model)
    with duckdb.connect(str(reference_warehouse), read_only=True) as con:
        expected = rows(con, "marts", model, columns)
        got = rows(con, REFERENCE_SCHEMA, model, columns)
    assert len(expected) >= MIN_ROWS[model]
    assert len(got) == len(expected)
    mismatched = [(e, g) for e, g in zip(expected, got, strict=True) if not same_row(e, g)]
    assert not mismatched, f"{len(mismatched)} rows differ; first: {mismatched[0]}"
