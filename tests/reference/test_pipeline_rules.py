"""One hand-worked case per rule of docs/metrics.md for the pipeline reference.

Every expected value was worked out by hand from the contract, not by running the code. Deals
are in HubSpot's default pipeline (stage probabilities 0.2 / 0.4 / 0.6 / 0.8 / 0.9); ``end(D)``
is D + 1 day 00:00 UTC.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.reference.pipeline import compute_pipeline_marts
from tests.reference.test_funnel_rules import MAPPING, RATES, T, deal

PROBABILITIES = [
    {"source": "hubspot", "pipeline_id": "default", "stage_id": s, "probability": p}
    for s, p in (
        ("appointmentscheduled", "0.2"),
        ("qualifiedtobuy", "0.4"),
        ("presentationscheduled", "0.6"),
        ("decisionmakerboughtin", "0.8"),
        ("contractsent", "0.9"),
        ("closedwon", "1.0"),
        ("closedlost", "0.0"),
    )
]


def prop(did: str, name: str, entries: list[tuple[str, str]]) -> list[dict]:
    """Property history rows [(value, time)], oldest first (seq = list position)."""
    return [
        {"source": "hubspot", "source_deal_id": did, "property": name, "seq": k, "value": v, "changed_at": T(t)}
        for k, (v, t) in enumerate(entries)
    ]


def run(deals, props=(), *, as_of_date: date) -> dict:
    history = [
        {"source": "hubspot", "source_deal_id": d["source_deal_id"], "seq": k, "stage_id": s, "changed_at": T(t)}
        for d in deals
        for k, (s, t) in enumerate(d["_stages"])
    ]
    return compute_pipeline_marts(
        list(deals), history, list(props), PROBABILITIES, MAPPING, RATES, as_of_date=as_of_date
    )


def snaps(m: dict, did: str) -> dict[date, dict]:
    return {r["snapshot_date"]: r for r in m["fct_pipeline_snapshot_daily"] if r["source_deal_id"] == did}


def cell(m: dict, mart: str, **key) -> dict:
    (row,) = [r for r in m[mart] if all(r[k] == v for k, v in key.items())]
    return row


OPEN = [("appointmentscheduled", "2026-03-01 10:00")]


def test_amount_entered_days_after_creation_is_null_until_then():
    d = deal("1", OPEN, amount="5000")
    m = run(
        [d], prop("1", "amount", [("", "2026-03-01 10:00"), ("5000", "2026-03-04 09:00")]), as_of_date=date(2026, 3, 6)
    )
    s = snaps(m, "1")
    assert sorted(s) == [date(2026, 3, k) for k in range(1, 7)]
    assert [s[date(2026, 3, k)]["amount"] for k in range(1, 7)] == [None, None, None, 5000.0, 5000.0, 5000.0]
    assert {r["amount_basis"] for r in s.values()} == {"history"}
    assert s[date(2026, 3, 2)]["weighted_amount_reporting"] is None
    assert s[date(2026, 3, 4)]["weighted_amount_reporting"] == pytest.approx(1000.0)
    day2 = cell(m, "mart_pipeline_by_stage_daily", snapshot_date=date(2026, 3, 2))
    assert (day2["deals_missing_amount"], day2["open_amount_reporting"], day2["weighted_amount_reporting"]) == (
        1,
        0.0,
        0.0,
    )


def test_a_deal_without_amount_history_uses_its_latest_amount():
    m = run([deal("1", OPEN, amount="700")], as_of_date=date(2026, 3, 2))
    assert [(r["amount"], r["amount_basis"]) for r in snaps(m, "1").values()] == [(700.0, "latest")] * 2


def test_two_changes_on_one_day_the_last_wins_and_equal_times_keep_the_api_order():
    entries = [
        ("50", "2026-03-01 10:00"),
        ("100", "2026-03-02 09:00"),
        ("200", "2026-03-02 17:00"),
        ("300", "2026-03-03 12:00"),
        ("400", "2026-03-03 12:00"),  # same time, later in the API's order: newer
    ]
    m = run([deal("1", OPEN)], prop("1", "amount", entries), as_of_date=date(2026, 3, 3))
    assert [r["amount"] for r in snaps(m, "1").values()] == [50.0, 200.0, 400.0]


def test_a_slipped_close_date_is_overdue_until_it_is_pushed_out():
    entries = [("2026-03-10T00:00:00.000Z", "2026-03-01 10:00"), ("2026-03-30T00:00:00.000Z", "2026-03-12 15:00")]
    m = run([deal("1", OPEN)], prop("1", "close_date", entries), as_of_date=date(2026, 3, 13))
    s = snaps(m, "1")
    assert (s[date(2026, 3, 10)]["expected_close_date"], s[date(2026, 3, 10)]["is_overdue"]) == (
        date(2026, 3, 10),
        False,
    )
    assert (s[date(2026, 3, 11)]["expected_close_date"], s[date(2026, 3, 11)]["is_overdue"]) == (
        date(2026, 3, 10),
        True,
    )
    assert (s[date(2026, 3, 12)]["expected_close_date"], s[date(2026, 3, 12)]["is_overdue"]) == (
        date(2026, 3, 30),
        False,
    )
    day11 = cell(m, "mart_pipeline_by_stage_daily", snapshot_date=date(2026, 3, 11))
    assert (day11["overdue_deal_count"], day11["overdue_amount_reporting"]) == (1, 1000.0)
    assert cell(m, "mart_pipeline_by_stage_daily", snapshot_date=date(2026, 3, 12))["overdue_deal_count"] == 0


def test_a_currency_change_converts_each_day_with_that_days_currency_and_rate():
    d = deal("1", [("appointmentscheduled", "2026-01-31 12:00")], currency="USD")
    m = run(
        [d],
        prop("1", "currency", [("EUR", "2026-01-31 12:00"), ("USD", "2026-02-02 08:00")]),
        as_of_date=date(2026, 2, 2),
    )
    s = snaps(m, "1")
    # EUR 1.10 from Jan 1, 1.20 from Feb 1; probability 0.2
    assert [(r["currency_code"], r["amount_reporting"]) for r in s.values()] == [
        ("EUR", pytest.approx(1100.0)),
        ("EUR", pytest.approx(1200.0)),
        ("USD", pytest.approx(1000.0)),
    ]
    assert [r["weighted_amount_reporting"] for r in s.values()] == [
        pytest.approx(220.0),
        pytest.approx(240.0),
        pytest.approx(200.0),
    ]


def test_a_reopened_deal_is_open_again_from_the_reopen():
    stages = [
        ("contractsent", "2026-03-01 00:00"),
        ("closedwon", "2026-03-05 10:00"),
        ("contractsent", "2026-03-08 10:00"),
    ]
    m = run([deal("1", stages)], as_of_date=date(2026, 3, 10))
    s = snaps(m, "1")
    assert sorted(s) == [date(2026, 3, k) for k in (1, 2, 3, 4, 8, 9, 10)]
    assert s[date(2026, 3, 8)]["days_in_stage"] == pytest.approx(14 / 24)
    assert s[date(2026, 3, 8)]["deal_age_days"] == pytest.approx(8.0)
    assert s[date(2026, 3, 4)]["stage_probability"] == 0.9


def test_a_skip_exits_advanced_and_leaves_the_skipped_step_without_exits():
    stages = [
        ("appointmentscheduled", "2026-03-01 00:00"),
        ("decisionmakerboughtin", "2026-03-03 00:00"),
        ("closedwon", "2026-03-05 00:00"),
    ]
    m = run([deal("1", stages)], as_of_date=date(2026, 3, 31))
    rows = {r["funnel_step"]: r for r in m["mart_funnel_bottlenecks_monthly"]}
    assert set(rows) == {"qualification", "negotiation"}
    for r in rows.values():
        assert (r["exits"], r["advanced_count"], r["median_dwell_days"], r["p90_dwell_days"]) == (1, 1, 2.0, 2.0)


def test_a_regression_exits_regressed_and_the_lost_exit_carries_the_amount():
    stages = [
        ("appointmentscheduled", "2026-03-01 00:00"),
        ("presentationscheduled", "2026-03-02 00:00"),
        ("qualifiedtobuy", "2026-03-04 00:00"),
        ("closedlost", "2026-03-06 00:00"),
    ]
    m = run([deal("1", stages)], as_of_date=date(2026, 3, 31))
    qual = cell(m, "mart_funnel_bottlenecks_monthly", funnel_step="qualification")
    pres = cell(m, "mart_funnel_bottlenecks_monthly", funnel_step="presentation")
    assert (qual["exits"], qual["advanced_count"], qual["lost_count"], qual["regressed_count"]) == (2, 1, 1, 0)
    assert (pres["exits"], pres["regressed_count"], pres["advance_rate"]) == (1, 1, 0.0)
    assert (qual["lost_amount_reporting"], pres["lost_amount_reporting"]) == (1000.0, 0.0)
    assert qual["is_value_bottleneck"] and not pres["is_value_bottleneck"]
    assert not qual["is_conversion_bottleneck"], "fewer than 20 exits: no conversion bottleneck"


def test_moves_between_two_stages_of_one_step_are_one_step_visit():
    stages = [
        ("appointmentscheduled", "2026-03-01 00:00"),
        ("qualifiedtobuy", "2026-03-03 12:00"),
        ("presentationscheduled", "2026-03-05 00:00"),
    ]
    m = run([deal("1", stages)], as_of_date=date(2026, 3, 31))
    qual = cell(m, "mart_funnel_bottlenecks_monthly", funnel_step="qualification")
    assert (qual["exits"], qual["advanced_count"], qual["median_dwell_days"]) == (1, 1, 4.0)
    s = snaps(m, "1")
    assert (s[date(2026, 3, 2)]["stage_id"], s[date(2026, 3, 2)]["days_in_stage"]) == ("appointmentscheduled", 2.0)
    assert (s[date(2026, 3, 3)]["stage_id"], s[date(2026, 3, 3)]["days_in_stage"]) == ("qualifiedtobuy", 0.5)
    pres = cell(m, "mart_funnel_bottlenecks_monthly", funnel_step="presentation")
    assert (pres["exits"], pres["open_at_period_end"]) == (0, 1)


def test_a_deal_created_and_closed_on_one_day_has_no_snapshot_row():
    stages = [("appointmentscheduled", "2026-03-01 09:00"), ("closedlost", "2026-03-01 15:00")]
    m = run([deal("1", stages), deal("2", OPEN)], as_of_date=date(2026, 3, 2))
    assert snaps(m, "1") == {}
    qual = cell(m, "mart_funnel_bottlenecks_monthly", funnel_step="qualification")
    assert (qual["exits"], qual["lost_count"], qual["median_dwell_days"], qual["open_at_period_end"]) == (1, 1, 0.25, 1)


def test_velocity_window_is_half_open_and_recomputes_from_its_inputs():
    won = deal("A", [("contractsent", "2026-02-01 00:00"), ("closedwon", "2026-03-01 00:00")])
    lost = deal("B", [("contractsent", "2026-03-02 00:00"), ("closedlost", "2026-03-10 00:00")])
    still_open = deal("C", [("appointmentscheduled", "2026-03-15 00:00")])
    m = run([won, lost, still_open], as_of_date=date(2026, 3, 31))
    feb = cell(m, "mart_pipeline_velocity_monthly", month=date(2026, 2, 1))
    mar = cell(m, "mart_pipeline_velocity_monthly", month=date(2026, 3, 1))
    # A closes exactly at February's period_end (Mar 1 00:00): in (pe − 180 d, pe], and open at end(Feb 28)
    assert (feb["open_deal_count"], feb["won_count"], feb["lost_count"]) == (1, 1, 0)
    assert feb["velocity_per_day"] == pytest.approx(1 * 1.0 * 1000 / 28)
    assert (mar["open_deal_count"], mar["won_count"], mar["lost_count"], mar["win_rate"]) == (1, 1, 1, 0.5)
    assert mar["velocity_per_day"] == pytest.approx(1 * 0.5 * 1000 / 28)


def test_stuck_deals_need_twenty_exits_and_exceed_the_p90_dwell():
    movers = [
        deal(
            f"m{k}",
            [("appointmentscheduled", "2026-03-01 00:00"), ("presentationscheduled", f"2026-03-{k + 2:02d} 00:00")],
        )
        for k in range(20)
    ]  # qualification dwell 1 … 20 days: p90 = 18 + 0.1 × (19 − 18) = 18.1
    stuck = deal("D", [("appointmentscheduled", "2026-03-05 00:00")])  # 27 days at Apr 1 00:00
    fresh = deal("E", [("appointmentscheduled", "2026-03-20 00:00")])  # 12 days
    m = run([*movers, stuck, fresh], as_of_date=date(2026, 3, 31))
    qual = cell(m, "mart_funnel_bottlenecks_monthly", funnel_step="qualification")
    assert (qual["exits"], qual["advance_rate"], qual["median_dwell_days"]) == (20, 1.0, 10.5)
    assert qual["p90_dwell_days"] == pytest.approx(18.1)
    assert (qual["open_at_period_end"], qual["stuck_count"], qual["stuck_amount_reporting"]) == (2, 1, 1000.0)
    assert qual["is_conversion_bottleneck"] and qual["is_value_bottleneck"]
    pres = cell(m, "mart_funnel_bottlenecks_monthly", funnel_step="presentation")
    assert (pres["open_at_period_end"], pres["stuck_count"], pres["is_value_bottleneck"]) == (20, 0, False)
