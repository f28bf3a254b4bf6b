"""The tables and columns added for analysts equal the independent reference from ground truth.

Names next to ids (`dim_owners`, `dim_pipelines`, `dim_pipeline_stages`, labels on the facts),
the first-touch `lead_channel`, cohort maturity, won deals without an amount, and the as-of
table: every row matched by key against ``tests/reference/analyst.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from tests.marts.compare import compare_rows, read_mart
from tests.reference.analyst import ADDED_COLUMNS, ADDED_KEYS, analyst_marts


@pytest.fixture(scope="module")
def reference(demo_warehouse) -> dict[str, list[dict]]:
    # the shared fixture syncs HubSpot and both ad platforms (tests/conftest.py); Pipedrive is not configured
    return analyst_marts(
        demo_warehouse.truth,
        as_of_date=demo_warehouse.as_of_date,
        seeds_dir=demo_warehouse.seeds_dir,
        loaded_sources=("hubspot", "google_ads", "meta"),
    )


@pytest.mark.slow
@pytest.mark.parametrize("mart", sorted(ADDED_COLUMNS))
def test_added_columns_match_reference(demo_warehouse, reference, mart):
    columns, rows = read_mart(demo_warehouse.warehouse, mart)
    expected = reference[mart]
    assert expected, f"the reference computed no rows for {mart}"
    diff = compare_rows(mart, rows, expected, columns, columns=ADDED_COLUMNS[mart], keys=ADDED_KEYS[mart])
    assert not diff, diff.report()


@pytest.mark.slow
def test_demo_data_exercises_the_added_rules(reference):
    """Guard against a comparison that cannot fail: the demo has both kinds of each flag."""
    maturity = reference["mart_stage_conversion_monthly"]
    assert {r["is_mature"] for r in maturity} == {True, False}
    assert sum(r["won_without_amount_count"] for r in reference["mart_deal_outcomes_monthly"]) > 0
    channels = {d["lead_channel"] for d in reference["fct_deals"]}
    assert None in channels and len(channels - {None}) >= 3
    assert any(s["is_archived"] for s in reference["dim_pipeline_stages"])


@pytest.mark.slow
def test_build_info_times_are_the_runs(demo_warehouse):
    """`built_at` is the last dbt build's start, after the last load; both before now."""
    with duckdb.connect(str(demo_warehouse.warehouse), read_only=True) as con:
        built_at, loaded_at = con.execute("select built_at, last_loaded_at from marts.mart_build_info").fetchone()
    now = datetime.now(UTC).replace(tzinfo=None)
    assert loaded_at is not None and built_at is not None
    assert loaded_at <= built_at <= now
