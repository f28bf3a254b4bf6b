"""The Dagster wiring: the checks target the marts (keys from dagster-dbt), run in refresh_all and
turn outcomes into AssetCheckResults a person can act on."""

from __future__ import annotations

from pathlib import Path

import duckdb
from dagster import AssetCheckSeverity, AssetKey, AssetSelection, materialize

from orchestration.assets.dbt import warehouse_dbt_models
from orchestration.checks import CHECK_SPECS, funnel_anomaly_checks, to_result
from orchestration.definitions import REFRESH_JOB_NAME, build_resources, defs
from warehouse.anomaly.checks import run_check

from .conftest import AS_OF, Warehouse


def test_checks_are_registered_on_the_marts_and_run_in_refresh_all():
    keys = {spec.name: spec.asset_key for spec in CHECK_SPECS}
    assert keys["stage_conversion_drop"] == AssetKey(["marts", "fct_deal_stage_history"])
    assert keys["lead_volume_anomaly"] == AssetKey(["marts", "mart_lead_volume_daily"])
    assert keys["stuck_deals"] == AssetKey(["marts", "fct_deal_stage_history"])
    assert keys["won_amount_sanity"] == AssetKey(["marts", "fct_deals"])
    assert keys["raw_load_freshness"] == AssetKey(["raw_hubspot", "deals"])
    assert "structural_integrity" not in keys  # blocking dbt tests play that part in Dagster
    job_checks = defs.resolve_job_def(REFRESH_JOB_NAME).asset_layer.asset_graph.asset_check_keys
    assert {k.name for k in job_checks} >= set(keys)
    metric_key = AssetKey(["metrics", "metric_funnel_history"])
    assert metric_key in defs.resolve_asset_graph().get_all_asset_keys()
    stuck = next(s for s in CHECK_SPECS if s.name == "stuck_deals")
    assert [dep.asset_key for dep in stuck.additional_deps] == [metric_key]  # runs after the metric model


def test_outcome_becomes_an_actionable_check_result():
    wh = Warehouse()
    for week in (0, 1):
        wh.row("skip_rate", "all", "week", week)["numerator"] = 60  # ~5% instead of 1%
    result = to_result(run_check(wh.con(), AS_OF, "skip_rate_jump"))
    assert result.passed is False and result.severity == AssetCheckSeverity.WARN
    assert result.asset_key == AssetKey(["marts", "fct_deal_stage_history"])
    meta = result.metadata
    assert meta["segment"].value == "all" and meta["z"].value > 4
    assert {"value", "baseline", "n", "window", "details", "flagged_segments"} <= set(meta)


def test_exact_check_reports_p_values_and_not_enough_data():
    con = Warehouse().con()
    con.execute("insert into marts.mart_lead_volume_daily values (?, 'hubspot', 'tiny', 1)", [AS_OF])
    result = to_result(run_check(con, AS_OF, "lead_volume_anomaly"))
    assert result.passed is True
    assert result.metadata["status"].value == "ok"  # spikes are testable, drops are not
    assert result.metadata["not_enough_data"].value == "tiny"
    assert "Not enough data to test: tiny" in result.description


def test_multi_asset_check_runs_against_the_warehouse(tmp_path: Path, monkeypatch):
    path = tmp_path / "warehouse.duckdb"
    source = Warehouse().con()
    source.execute(f"attach '{path}' as target")
    for table in (
        "metrics.metric_funnel_history",
        "marts.fct_deals",
        "marts.fct_deal_stage_history",
        "marts.mart_lead_volume_daily",
    ):
        source.execute(f"create schema if not exists target.{table.split('.')[0]}")
        source.execute(f"create table target.{table} as select * from {table}")
    source.close()
    monkeypatch.setenv("AS_OF_DATE", AS_OF.isoformat())
    result = materialize(
        [warehouse_dbt_models, funnel_anomaly_checks],
        resources=build_resources(str(path)),
        selection=AssetSelection.checks(funnel_anomaly_checks),
    )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {spec.name for spec in CHECK_SPECS}
    assert all(e.passed for e in evaluations.values())
    with duckdb.connect(str(path), read_only=True) as con:  # the check closed its connection
        assert con.execute("select count(*) from metrics.metric_funnel_history").fetchone()[0] > 0
