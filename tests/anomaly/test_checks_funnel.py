"""Each funnel check fires on an obvious anomaly in a hand-built metric history and stays quiet on
the clean one; baselines skip the window, earlier incidents and immature cohorts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from warehouse.anomaly import thresholds
from warehouse.anomaly.checks import run_all, run_check

from .conftest import AS_OF, WEEKS, Warehouse

STATISTICAL = [
    "stage_conversion_drop",
    "lead_volume_anomaly",
    "stage_dwell_spike",
    "stuck_deals",
    "skip_rate_jump",
    "regression_rate_jump",
    "transition_burst",
    "won_amount_sanity",
]


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


def test_conversion_drop_in_the_latest_mature_cohorts(warehouse):
    for week in (4, 5):  # E-41..E-28: the two latest mature cohorts
        row = warehouse.row("stage_conversion", "qualification", "week", week)
        row["numerator"] = row["value"] = None
        row["numerator"] = 100  # 25% instead of ~50%
        row["value"] = 0.25
    con = warehouse.con()
    con.execute(
        "insert into marts.fct_deals values ('hubspot:1', 'open', null, null, ?, null, null, null)",
        [datetime(2026, 9, 25, 10)],
    )
    outcome = run_check(con, AS_OF, "stage_conversion_drop")
    assert not outcome.passed
    seg = outcome.metadata["segments"]["qualification"]
    assert seg["flagged"] and seg["z"] < -4 and seg["n"] == 800
    assert seg["window_start"] == "2026-09-20" and seg["window_end"] == "2026-10-03"
    assert 0.45 < seg["baseline"] < 0.55 and seg["baseline_buckets"] == thresholds.BASELINE_BUCKETS
    assert seg["sample_ids"] == ["hubspot:1"]
    assert outcome.metadata["flagged_segments"] == ["qualification"]
    assert "qualification → presentation" in outcome.description


def test_immature_cohorts_are_neither_tested_nor_baselines(warehouse):
    for week in range(4):  # the last 4 weeks are immature: members had < 28 days to convert
        row = warehouse.row("stage_conversion", "qualification", "week", week)
        row["numerator"], row["value"] = 10, 10 / 400
    assert failed(warehouse.con(), ["stage_conversion_drop"]) == set()


def test_small_cohorts_never_flag(warehouse):
    for week in (4, 5):
        row = warehouse.row("stage_conversion", "negotiation", "week", week)
        row.update(numerator=0, denominator=10, n=10, value=0.0)
    assert failed(warehouse.con(), ["stage_conversion_drop"]) == set()


def test_an_earlier_incident_is_kept_out_of_the_baseline(warehouse):
    # a past collapse of the cohort conversion (weeks 8-9) must neither mask nor cause a flag now
    for week in (8, 9):
        row = warehouse.row("stage_conversion", "presentation", "week", week)
        row["numerator"], row["value"] = 40, 0.1
    outcome = run_check(warehouse.con(), AS_OF, "stage_conversion_drop")
    seg = outcome.metadata["segments"]["presentation"]
    assert outcome.passed
    assert len(seg["excluded_flagged_buckets"]) == 2
    assert 0.5 < seg["baseline"] < 0.6  # the incident did not drag the baseline down


def test_lead_volume_collapse_of_one_channel(warehouse):
    for day in range(7):
        row = warehouse.row("leads", "paid_search", "day", day)
        row["value"] = row["numerator"] = round(row["value"] * 0.1)
    outcome = run_check(warehouse.con(), AS_OF, "lead_volume_anomaly")
    assert not outcome.passed
    assert outcome.metadata["flagged_segments"] == ["paid_search"]
    seg = outcome.metadata["segments"]["paid_search"]
    assert seg["relative_change"] < -0.8 and seg["z"] < -5
    assert seg["window_start"] == "2026-10-25" and len(seg["daily"]) == 7


def test_lead_volume_spike(warehouse):
    for day in range(7):
        warehouse.row("leads", "organic_search", "day", day)["value"] *= 2
    assert failed(warehouse.con(), ["lead_volume_anomaly"]) == {"lead_volume_anomaly"}


def test_weekends_are_compared_with_weekends(warehouse):
    # The fixture's weekends carry a quarter of the weekday volume: against the average day the
    # weekend would look like a collapse, against the same weekdays of earlier weeks it is normal.
    outcome = run_check(warehouse.con(), AS_OF, "lead_volume_anomaly")
    assert outcome.passed, outcome.description
    seg = outcome.metadata["segments"]["paid_search"]
    days = [AS_OF - timedelta(days=d) for d in range(6, -1, -1)]  # oldest first, like seg["daily"]
    for i, day in enumerate(days):
        back = (AS_OF - day).days
        same_weekday = [warehouse.row("leads", "paid_search", "day", back + 7 * k)["value"] for k in range(1, 9)]
        assert seg["baseline_daily"][i] == pytest.approx(sum(same_weekday) / 8, abs=0.051)
    weekend = [seg["baseline_daily"][i] for i, d in enumerate(days) if d.weekday() >= 5]
    weekdays = [seg["baseline_daily"][i] for i, d in enumerate(days) if d.weekday() < 5]
    assert len(weekend) == 2 and max(weekend) < 0.5 * min(weekdays)


def test_dwell_spike(warehouse):
    for week in (0, 1):
        warehouse.row("dwell_log_days", "presentation", "week", week)["value"] += 1.386  # 4x longer
    con = warehouse.con()
    con.execute(
        "insert into marts.fct_deal_stage_history values ('hubspot:7', 'presentation', 2, ?, ?, false, 40, "
        "false, false)",
        [datetime(2026, 9, 20), datetime(2026, 10, 30)],
    )
    outcome = run_check(con, AS_OF, "stage_dwell_spike")
    assert not outcome.passed and outcome.metadata["flagged_segments"] == ["presentation"]
    seg = outcome.metadata["segments"]["presentation"]
    assert seg["relative_change"] > 2.5 and seg["z"] > 4 and seg["sample_ids"] == ["hubspot:7"]


def test_stuck_deals_share_is_compared_with_its_own_baseline(warehouse):
    # 12% stuck is this pipeline's normal: quiet
    assert failed(warehouse.con(), ["stuck_deals"]) == set()
    row = warehouse.row("stuck_open_share", "negotiation", "snapshot", 0)
    row.update(numerator=84 + 60, denominator=760, n=760, value=144 / 760)
    con = warehouse.con()
    con.execute(
        "insert into marts.fct_deal_stage_history values ('hubspot:9', 'negotiation', 3, ?, null, true, 90, "
        "false, false)",
        [datetime(2026, 8, 2)],
    )
    outcome = run_check(con, AS_OF, "stuck_deals")
    assert not outcome.passed and outcome.metadata["flagged_segments"] == ["negotiation"]
    seg = outcome.metadata["segments"]["negotiation"]
    assert seg["sample_ids"] == ["hubspot:9"] and seg["stuck_band_days"] == [60.0, 120.0]


def test_regression_and_transition_burst_from_a_bulk_edit(warehouse):
    for week in (0,):
        row = warehouse.row("regression_rate", "all", "week", week)
        row.update(numerator=row["numerator"] + 160, denominator=row["denominator"] + 320)
    for step in ("presentation", "negotiation"):
        warehouse.row("transitions", step, "day", 2)["value"] += 160
    warehouse.row("flapping_deals", "all", "day", 2)["value"] = 80
    con = warehouse.con()
    burst_day = datetime(2026, 10, 29, 10)
    for k in range(3):
        con.execute(
            "insert into marts.fct_deal_stage_history values ('hubspot:f', 'presentation', ?, ?, null, false, "
            "0.01, true, false)",
            [10 + k, burst_day + timedelta(minutes=k)],
        )
    assert failed(con) == {"regression_rate_jump", "transition_burst"}
    burst = run_check(con, AS_OF, "transition_burst")
    assert set(burst.metadata["flagged_segments"]) == {"to:presentation", "to:negotiation", "flapping_deals"}
    assert burst.metadata["segments"]["flapping_deals"]["burst_days"][0]["day"] == "2026-10-29"
    assert burst.metadata["sample_ids"] == ["hubspot:f"]


def test_a_few_flapping_deals_are_not_a_burst(warehouse):
    warehouse.row("flapping_deals", "all", "day", 1)["value"] = 5  # below FLAP_MIN_DEALS
    assert failed(warehouse.con(), ["transition_burst"]) == set()


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
    outcome = run_check(warehouse.con(), AS_OF + timedelta(days=1), "stage_conversion_drop")
    assert not outcome.passed and "as_of_date" in outcome.metadata["error"]


def test_missing_metric_table_is_reported():
    import duckdb

    outcome = run_check(duckdb.connect(":memory:"), AS_OF, "lead_volume_anomaly")
    assert not outcome.passed and "CatalogException" in outcome.metadata["error"]


def test_history_is_long_enough_for_every_baseline():
    # 2 tested + 12 baseline + screening room, within the 30 weeks the metric model keeps
    assert thresholds.TEST_COHORTS + 4 + thresholds.BASELINE_BUCKETS + thresholds.MIN_BASELINE_BUCKETS <= WEEKS
    assert max(thresholds.STUCK_BASELINE_SNAPSHOTS) < WEEKS
