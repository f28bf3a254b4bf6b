"""Raw-load freshness (the one check that reads the clock) and the structural mirror of the
blocking dbt tests."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from warehouse.anomaly import checks
from warehouse.anomaly.checks import freshness, run_check

from .conftest import AS_OF

NOW = datetime(2026, 11, 2, 12, 0)


@pytest.fixture
def raw_con(monkeypatch) -> duckdb.DuckDBPyConnection:
    monkeypatch.setattr(freshness, "now_utc", lambda: NOW)
    con = duckdb.connect(":memory:")
    con.execute("create schema raw_hubspot; create schema raw_pipedrive")
    con.execute("create table raw_hubspot.deals (id varchar, _loaded_at timestamp)")
    con.execute("create table raw_hubspot.contacts (id varchar, _loaded_at timestamp)")
    con.execute("create table raw_hubspot._cursors (stream varchar, _loaded_at timestamp)")  # bookkeeping: ignored
    con.execute("create table raw_pipedrive.deals (id varchar, _loaded_at timestamp)")  # not configured: empty
    return con


def test_fresh_loads_pass(raw_con):
    raw_con.execute("insert into raw_hubspot.deals values ('1', '2026-11-01 20:00:00')")  # 16 h ago
    raw_con.execute("insert into raw_hubspot.contacts values ('1', '2026-10-20 00:00:00')")
    outcome = run_check(raw_con, AS_OF, "raw_load_freshness")
    assert outcome.passed
    assert outcome.metadata["segments"]["raw_hubspot"]["age_hours"] == 16.0
    assert "not configured" in outcome.metadata["segments"]["raw_pipedrive"]["note"]


def test_stale_loads_warn(raw_con):
    raw_con.execute("insert into raw_hubspot.deals values ('1', '2026-10-31 23:00:00')")  # 37 h ago
    raw_con.execute("insert into raw_hubspot._cursors values ('deals', '2026-11-02 11:00:00')")
    outcome = run_check(raw_con, AS_OF, "raw_load_freshness")
    assert not outcome.passed and outcome.severity == "WARN"
    assert outcome.metadata["flagged_segments"] == ["raw_hubspot"]
    assert "37.0 h ago" in outcome.description


def _structural_con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("""
        create schema intermediate; create schema staging; create schema raw_hubspot;
        create table intermediate.int_deal_stage_changes_unioned (deal_id varchar, changed_at timestamp,
            deal_created_at timestamp);
        create table intermediate.int_deal_stage_visits_collapsed (deal_id varchar, entered_at timestamp,
            exited_at timestamp, funnel_step varchar);
        create table staging.stg_hubspot__deal_property_changes (deal_id varchar, property_name varchar,
            api_history_index integer, changed_at timestamp);
        create table raw_hubspot.deal_property_history (deal_id varchar, property varchar, history_index integer,
            _loaded_at timestamp);
        insert into intermediate.int_deal_stage_changes_unioned values ('hubspot:1', '2026-01-02', '2026-01-01');
        insert into intermediate.int_deal_stage_visits_collapsed values ('hubspot:1', '2026-01-01', null,
            'qualification');
        insert into staging.stg_hubspot__deal_property_changes values ('1', 'dealstage', 0, '2026-01-02');
        insert into raw_hubspot.deal_property_history values ('1', 'dealstage', 0, '2026-11-01');
    """)
    return con


def test_clean_structure_passes():
    outcome = run_check(_structural_con(), AS_OF, "structural_integrity")
    assert outcome.passed and outcome.severity == "ERROR"


def test_structural_faults_are_errors_naming_the_deals():
    con = _structural_con()
    con.execute(
        "insert into intermediate.int_deal_stage_changes_unioned values ('hubspot:2', '2025-12-01', '2026-01-01')"
    )
    con.execute("insert into staging.stg_hubspot__deal_property_changes values ('3', 'dealstage', 0, '2036-01-01')")
    con.execute("insert into raw_hubspot.deal_property_history values ('3', 'dealstage', 0, '2026-11-01')")
    con.execute(
        "insert into intermediate.int_deal_stage_visits_collapsed values ('hubspot:4', '2026-02-01', "
        "'2026-01-01', 'presentation'), ('hubspot:5', '2026-02-01', null, null)"
    )
    outcome = run_check(con, AS_OF, "structural_integrity")
    assert not outcome.passed and outcome.severity == "ERROR"
    segs = outcome.metadata["segments"]
    assert segs["history_before_creation"]["sample_ids"] == ["hubspot:2"]
    assert segs["history_after_load"]["sample_ids"] == ["hubspot:3"]
    assert segs["visits_out_of_order"]["sample_ids"] == ["hubspot:4"]
    assert segs["unmapped_stages"]["sample_ids"] == ["hubspot:5"]


def test_registry_and_run_all_signature():
    assert set(checks.CHECKS) == {
        "stage_conversion_drop",
        "lead_volume_anomaly",
        "stage_dwell_spike",
        "stuck_deals",
        "skip_rate_jump",
        "regression_rate_jump",
        "transition_burst",
        "won_amount_sanity",
        "raw_load_freshness",
        "structural_integrity",
    }
    outcomes = checks.run_all(duckdb.connect(":memory:"), AS_OF)
    assert [o.name for o in outcomes] == list(checks.CHECKS)
    assert all(o.severity in {"WARN", "ERROR"} for o in outcomes)


def test_dbt_source_freshness_warns_at_the_checks_threshold():
    # `dbt source freshness` (the library's view of the same rule) reads one threshold with the check
    import json

    from orchestration.instance import prepare_dbt_manifest
    from warehouse.anomaly.thresholds import FRESHNESS_MAX_AGE

    manifest = json.loads(prepare_dbt_manifest().read_text())
    raw = [s for s in manifest["sources"].values() if s["schema"].startswith("raw_")]
    assert raw
    for source in raw:
        assert source["loaded_at_field"] == "_loaded_at", source["unique_id"]
        warn = source["freshness"]["warn_after"]
        assert (warn["count"], warn["period"]) == (FRESHNESS_MAX_AGE.total_seconds() / 3600, "hour"), source[
            "unique_id"
        ]
