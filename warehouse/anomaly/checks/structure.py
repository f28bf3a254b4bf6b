"""`structural_integrity`: the blocking dbt tests' faults, for callers outside Dagster."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec, outcome
from warehouse.anomaly.thresholds import SAMPLE_SIZE

STRUCTURAL_QUERIES = {
    "history_before_creation": (
        "select distinct deal_id from intermediate.int_deal_stage_changes_unioned where changed_at < deal_created_at"
    ),
    "history_after_load": (
        "select distinct 'hubspot:' || c.deal_id from staging.stg_hubspot__deal_property_changes c "
        "join raw_hubspot.deal_property_history r on r.deal_id = c.deal_id and r.property = c.property_name "
        "and r.history_index = c.api_history_index where c.changed_at > r._loaded_at + interval 1 hour"
    ),
    "visits_out_of_order": (
        "select distinct deal_id from intermediate.int_deal_stage_visits_collapsed where exited_at < entered_at"
    ),
    "unmapped_stages": (
        "select distinct deal_id from intermediate.int_deal_stage_visits_collapsed where funnel_step is null"
    ),
}


def structural_integrity(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:  # noqa: ARG001
    """The blocking dbt tests' faults, for callers outside Dagster (in Dagster the dbt tests are
    the blocking checks): history before creation or later than its load, visits out of order,
    unmapped stages."""
    findings: dict[str, dict[str, Any]] = {}
    flagged: list[str] = []
    for name, sql in STRUCTURAL_QUERIES.items():
        ids = [row[0] for row in con.execute(sql).fetchall()]
        findings[name] = {"deals": len(ids), "sample_ids": sorted(ids)[:SAMPLE_SIZE], "flagged": bool(ids)}
        if ids:
            flagged.append(name)
    headline = "; ".join(f"{s}: {findings[s]['deals']} deals" for s in flagged)
    return outcome(SPEC, findings, flagged, headline)


SPEC = CheckSpec(
    "structural_integrity",
    "int_deal_stage_visits_collapsed",
    "ERROR",
    "Stage history before the deal's creation or later than its load, visits out of order, unmapped "
    "stages (mirrors the blocking dbt tests).",
    structural_integrity,
)
