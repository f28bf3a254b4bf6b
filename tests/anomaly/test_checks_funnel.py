"""The checks that still read the metric table (skip and regression rates, won amounts) fire on an
obvious anomaly in a hand-built metric history and stay quiet on the clean one. The exposure-based
checks (conversion, lead volume, dwell, stuck deals, bursts): test_checks_exposure.py."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from warehouse.anomaly import thresholds
from warehouse.anomaly.checks import run_all, run_check

from .conftest import AS_OF, WEEKS, Warehouse

STATISTICAL = ["skip_rate_jump", "regression_rate_jump", "won_amount_sanity"]


def failed(con, names=STATISTICAL) -> set[str]:
    return {o.name for o in run_all(con, AS_OF, names) if not o.passed}


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_clean_history_is_quiet(seed):
    assert failed(Warehouse(seed).con()) == set()


def test_every_outcome_has_severity_asset_description_and_metadata(warehouse):
    for outcome in run_all(warehouse.con(), AS_OF, STATISTICAL):
        assert outcome.severity == "WARN"
        assert outcome.asset in {
            "mart_stage_conversion_monthly",
            "mart_lead_volume_daily",
            "fct_deal_stage_history",
            "fct_deals",
        }
        assert outcome.description
        assert outcome.metadata["segments"], outcome.name
        assert "thresholds" in outcome.metadata


def test_regression_rate_from_a_bulk_edit(warehouse):
    row = warehouse.row("regression_rate", "all", "week", 0)
    row.update(numerator=row["numerator"] + 160, denominator=row["denominator"] + 320)
    assert failed(warehouse.con()) == {"regression_rate_jump"}


def test_skip_rate_jump(warehouse):
    for week in (0, 1):
        warehouse.row("skip_rate", "all", "week", week)["numerator"] = 60  # ~5% instead of 1%
    assert failed(warehouse.con()) == {"skip_rate_jump"}


def test_missing_amounts_compared_with_their_normal_share(warehouse):
    # 8% of won deals without an amount is normal here: quiet; 40% is not
    assert failed(warehouse.con(), ["won_amount_sanity"]) == set()
    for week in (0, 1):
        warehouse.row("won_missing_amount", "all", "week", week)["numerator"] = 36
    outcome = run_check(warehouse.con(), AS_OF, "won_amount_sanity")
    assert not outcome.passed and outcome.metadata["flagged_segments"] == ["missing_amount"]


def test_won_amount_outliers(warehouse):
    for k in range(5):  # amounts entered in cents: x 100
        warehouse.deals.append(
            (f"hubspot:c{k}", "won", 8000.0 * 100, datetime(2026, 10, 30, 9, k), None, None, None, None)
        )
    outcome = run_check(warehouse.con(), AS_OF, "won_amount_sanity")
    assert not outcome.passed and outcome.metadata["flagged_segments"] == ["amount_outliers"]
    seg = outcome.metadata["segments"]["amount_outliers"]
    assert seg["outliers"] >= 5 and set(seg["sample_ids"]) >= {f"hubspot:c{k}" for k in range(5)}


def test_metric_table_built_for_another_day_is_an_error_not_a_pass(warehouse):
    outcome = run_check(warehouse.con(), AS_OF + timedelta(days=1), "skip_rate_jump")
    assert not outcome.passed and "as_of_date" in outcome.metadata["error"]


def test_missing_metric_table_is_reported():
    import duckdb

    outcome = run_check(duckdb.connect(":memory:"), AS_OF, "skip_rate_jump")
    assert not outcome.passed and "CatalogException" in outcome.metadata["error"]


def test_history_is_long_enough_for_every_baseline():
    # 2 tested + 12 baseline + screening room, within the 30 weeks the metric model keeps
    assert thresholds.RATE_WINDOW_WEEKS + 4 + thresholds.BASELINE_BUCKETS + thresholds.MIN_BASELINE_BUCKETS <= WEEKS
