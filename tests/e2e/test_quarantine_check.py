"""The `quarantined_records` asset check in Dagster (orchestration/quarantine_check.py): registered
in `refresh_all` on `marts.quarantined_records`, ERROR and not blocking, failing with the count per
rule and the ids while the table has rows, passing when it is empty."""

from __future__ import annotations

from pathlib import Path

import duckdb
from dagster import AssetCheckSeverity, AssetKey, AssetSelection, materialize

from orchestration.assets.dbt import warehouse_dbt_models
from orchestration.definitions import REFRESH_JOB_NAME, build_resources, defs
from orchestration.quarantine_check import QUARANTINE_KEY, quarantined_records

ROWS = [
    ("hubspot", "deal", "12", "hubspot:12", "stage_change_before_deal_creation", "entry dated 2020-01-01"),
    ("hubspot", "deal", "3", "hubspot:3", "stage_change_after_load", "entry dated 2031-01-01"),
    ("pipedrive", "deal", "3", "pipedrive:3", "stage_change_after_load", "entry dated 2031-01-01"),
]


def _warehouse(path: Path, rows: list[tuple]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.quarantined_records (source varchar, entity varchar, source_record_id varchar, "
            "deal_id varchar, rule varchar, detail varchar)"
        )
        if rows:
            con.executemany("insert into marts.quarantined_records values (?, ?, ?, ?, ?, ?)", rows)


def _evaluate(path: Path):
    result = materialize(
        [warehouse_dbt_models, quarantined_records],
        resources=build_resources(str(path)),
        selection=AssetSelection.checks(quarantined_records),
    )
    assert result.success  # a failed ERROR check does not fail the run
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_registered_on_the_quarantine_mart_in_refresh_all():
    assert AssetKey(["marts", "quarantined_records"]) == QUARANTINE_KEY
    job_checks = defs.resolve_job_def(REFRESH_JOB_NAME).asset_layer.asset_graph.asset_check_keys
    key = next(k for k in job_checks if k.name == "quarantined_records")
    assert key.asset_key == QUARANTINE_KEY
    (spec,) = quarantined_records.check_specs
    assert spec.blocking is False


def test_fails_with_error_naming_the_rules_and_ids(tmp_path: Path):
    path = tmp_path / "warehouse.duckdb"
    _warehouse(path, ROWS)
    evaluation = _evaluate(path)
    assert evaluation.passed is False and evaluation.severity == AssetCheckSeverity.ERROR
    meta = {k: v.value for k, v in evaluation.metadata.items()}
    assert meta["count_per_rule"] == {"stage_change_after_load": 2, "stage_change_before_deal_creation": 1}
    assert meta["quarantined_records"] == 3
    assert meta["quarantined_ids"] == "hubspot:3, hubspot:12, pipedrive:3"
    assert meta["rule:stage_change_after_load"] == 2


def test_passes_when_nothing_is_quarantined(tmp_path: Path):
    path = tmp_path / "warehouse.duckdb"
    _warehouse(path, [])
    evaluation = _evaluate(path)
    assert evaluation.passed is True
    assert evaluation.metadata["quarantined_ids"].value == "none"
