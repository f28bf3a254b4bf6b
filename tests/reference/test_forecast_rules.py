"""Hand-worked cases for the forecast reference (docs/metrics.md, docs/forecast.md).

Every expected figure is worked out by hand in the comments, from the rules, never from the
code under test.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.reference.forecast import forecast_marts, origins_of, target_of

SRC = "hubspot"


def snap(day: date, deal: str, step: int, amount: float | None, weighted: float | None, close: date | None) -> dict:
    return {
        "snapshot_date": day,
        "deal_id": f"{SRC}:{deal}",
        "source": SRC,
        "funnel_step_order": step,
        "amount_reporting": amount,
        "weighted_amount_reporting": weighted,
        "expected_close_date": close,
    }


def deal(name: str, created: datetime, outcome: str, closed: datetime | None, amount: float | None) -> dict:
    return {
        "deal_id": f"{SRC}:{name}",
        "source": SRC,
        "outcome": outcome,
        "created_at": created,
        "closed_at": closed,
        "amount_reporting": amount,
    }


def index(rows: list[dict]) -> dict[tuple, dict]:
    return {(r["origin_date"], r["target_month"], r["method"]): r for r in rows}


# ---------------------------------------------------------------- calendar


def test_origins_are_month_ends_then_the_live_day():
    assert origins_of(date(2025, 1, 1), date(2025, 2, 14)) == [(date(2025, 1, 31), True), (date(2025, 2, 14), False)]
    # as_of_date on a month's last day: the last back-test origin is the month before
    assert origins_of(date(2025, 1, 1), date(2025, 3, 31))[-2:] == [
        (date(2025, 2, 28), True),
        (date(2025, 3, 31), False),
    ]
    # a live origin inside a month forecasts that month at horizon 0; a month-end the next one
    assert target_of(date(2025, 2, 14), 0) == date(2025, 2, 1)
    assert target_of(date(2025, 1, 31), 0) == date(2025, 2, 1)
    assert target_of(date(2025, 11, 30), 2) == date(2026, 2, 1)


# ---------------------------------------------------------------- toy A: two origins

JAN31, FEB14 = date(2025, 1, 31), date(2025, 2, 14)
FEB, MAR, APR = date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1)


@pytest.fixture(scope="module")
def toy_a() -> dict[str, list[dict]]:
    """First deal in January, as_of_date 14 February: origins 31 Jan (back-test) and 14 Feb (live).

    x: step 3, 1000 (weighted 600), expected 20 Feb; won 10 Feb at 1200 (final amount).
    y: step 2, 500 (weighted 100), expected 25 Jan at 31 Jan (overdue), slipped to 3 Mar by 14 Feb.
    z: step 4, 2000 (weighted 1600), no expected close date: never in the CRM-weighted forecast.
    w: created 2 Feb, step 2, 300 (weighted 60), expected 2 Apr.
    """
    snapshot = [
        snap(JAN31, "x", 3, 1000, 600, date(2025, 2, 20)),
        snap(JAN31, "y", 2, 500, 100, date(2025, 1, 25)),
        snap(JAN31, "z", 4, 2000, 1600, None),
        snap(FEB14, "y", 2, 500, 100, date(2025, 3, 3)),
        snap(FEB14, "z", 4, 2000, 1600, None),
        snap(FEB14, "w", 2, 300, 60, date(2025, 4, 2)),
    ]
    deals = [
        deal("x", datetime(2025, 1, 5), "won", datetime(2025, 2, 10, 9), 1200),
        deal("y", datetime(2025, 1, 10), "open", None, 500),
        deal("z", datetime(2025, 1, 20), "open", None, 2000),
        deal("w", datetime(2025, 2, 2), "open", None, 300),
    ]
    return forecast_marts(snapshot, deals, as_of_date=FEB14)


def test_toy_a_has_a_row_per_origin_target_and_method(toy_a):
    rows = toy_a["mart_forecast_monthly"]
    assert len(rows) == 2 * 3 * 3
    assert {(r["origin_date"], r["is_backtest"]) for r in rows} == {(JAN31, True), (FEB14, False)}


def test_toy_a_crm_weighted_backtest_origin(toy_a):
    m = index(toy_a["mart_forecast_monthly"])
    # February: x (600, expected 20 Feb) + y (100, overdue on 31 Jan -> horizon 0); z has no date
    assert m[(JAN31, FEB, "crm_weighted")]["forecast_amount_reporting"] == pytest.approx(700)
    assert m[(JAN31, MAR, "crm_weighted")]["forecast_amount_reporting"] == 0
    assert m[(JAN31, APR, "crm_weighted")]["forecast_amount_reporting"] == 0
    assert m[(JAN31, FEB, "crm_weighted")]["open_deal_count"] == 3
    assert m[(JAN31, FEB, "crm_weighted")]["booked_amount_reporting"] == 0


def test_toy_a_live_origin_books_what_already_closed(toy_a):
    m = index(toy_a["mart_forecast_monthly"])
    # x closed 10 Feb, before end(14 Feb): booked 1200 in February on every method's row
    for method in ("crm_weighted", "empirical", "naive"):
        assert m[(FEB14, FEB, method)]["booked_amount_reporting"] == pytest.approx(1200)
        assert m[(FEB14, MAR, method)]["booked_amount_reporting"] == 0
    # February: booked 1200 + nothing expected (y slipped to March); March: y 100; April: w 60
    assert m[(FEB14, FEB, "crm_weighted")]["forecast_amount_reporting"] == pytest.approx(1200)
    assert m[(FEB14, MAR, "crm_weighted")]["forecast_amount_reporting"] == pytest.approx(100)
    assert m[(FEB14, APR, "crm_weighted")]["forecast_amount_reporting"] == pytest.approx(60)
    assert m[(FEB14, FEB, "naive")]["open_deal_count"] == 3


def test_toy_a_nulls_too_little_history(toy_a):
    rows = toy_a["mart_forecast_monthly"]
    # no training origin before 31 Jan, and naive needs Nov-Jan (before the first month)
    assert all(r["forecast_amount_reporting"] is None for r in rows if r["method"] in ("empirical", "naive"))
    # February ends 1 Mar, after as_of (15 Feb 00:00): no actual yet
    assert all(r["actual_won_amount_reporting"] is None for r in rows)


def test_toy_a_accuracy_has_every_method_and_horizon_with_nothing_scored(toy_a):
    acc = toy_a["mart_forecast_accuracy"]
    assert len(acc) == 9
    assert all(r["n_origins"] == 0 and r["wape"] is None and r["skill_vs_naive"] is None for r in acc)


# ---------------------------------------------------------------- toy B: enough history

END = {m: date(2025, m, d) for m, d in ((1, 31), (2, 28), (3, 31), (4, 30), (5, 31), (6, 30))}
MAY, JUN = date(2025, 5, 1), date(2025, 6, 1)


@pytest.fixture(scope="module")
def toy_b() -> dict[str, list[dict]]:
    """First deal in January, as_of_date 30 June: back-test origins 31 Jan … 31 May, live 30 Jun.

    At 31 Jan / 28 Feb / 31 Mar one deal per step is open (a*, b*, c*): step 2 at 100, step 3
    at 200, step 4 at 400, no expected close date. Outcomes: a4 won 10 Feb (400), a3 won 5 Mar
    at a final 300, b4 won 20 Mar (400), c3 won 2 Apr (200), c2 won 30 Apr 23:00 (100); the rest
    lost. New business: e created 3 Feb won 20 Feb (50); f created 1 Apr won 15 Apr (150).
    At 30 Apr: d2 100 (w 20, expected 10 May), d3 200 (w 120, expected 20 Apr: overdue),
    d4 400 (w 360, expected 5 Jun); d4 won 25 May (400); d2, d3 lost in June.
    Won per month: Feb 450, Mar 700, Apr 450, May 400, Jun 0.
    """
    snapshot = []
    deals = []
    for month, letter in ((1, "a"), (2, "b"), (3, "c")):
        for step, amount in ((2, 100), (3, 200), (4, 400)):
            snapshot.append(snap(END[month], f"{letter}{step}", step, amount, amount / 2, None))
    outcomes = {
        "a2": ("lost", datetime(2025, 2, 2), 100),
        "a3": ("won", datetime(2025, 3, 5), 300),
        "a4": ("won", datetime(2025, 2, 10), 400),
        "b2": ("lost", datetime(2025, 3, 2), 100),
        "b3": ("lost", datetime(2025, 3, 3), 200),
        "b4": ("won", datetime(2025, 3, 20), 400),
        "c2": ("won", datetime(2025, 4, 30, 23), 100),
        "c3": ("won", datetime(2025, 4, 2), 200),
        "c4": ("lost", datetime(2025, 4, 4), 400),
    }
    for name, (outcome, closed, amount) in outcomes.items():
        deals.append(deal(name, datetime(2025, 1, 2), outcome, closed, amount))
    deals += [
        deal("e", datetime(2025, 2, 3), "won", datetime(2025, 2, 20), 50),
        deal("f", datetime(2025, 4, 1), "won", datetime(2025, 4, 15), 150),
        deal("d2", datetime(2025, 4, 3), "lost", datetime(2025, 6, 3), 100),
        deal("d3", datetime(2025, 4, 3), "lost", datetime(2025, 6, 4), 200),
        deal("d4", datetime(2025, 4, 3), "won", datetime(2025, 5, 25), 400),
    ]
    snapshot += [
        snap(END[4], "d2", 2, 100, 20, date(2025, 5, 10)),
        snap(END[4], "d3", 3, 200, 120, date(2025, 4, 20)),
        snap(END[4], "d4", 4, 400, 360, date(2025, 6, 5)),
        snap(END[5], "d2", 2, 100, 20, date(2025, 5, 10)),
        snap(END[5], "d3", 3, 200, 120, date(2025, 4, 20)),
    ]
    return forecast_marts(snapshot, deals, as_of_date=END[6])


def test_toy_b_empirical_needs_three_training_origins(toy_b):
    m = index(toy_b["mart_forecast_monthly"])
    # horizon 0 of 31 Mar trains on 31 Jan and 28 Feb only (two): null
    assert m[(END[3], date(2025, 4, 1), "empirical")]["forecast_amount_reporting"] is None
    # horizon 1 of 30 Apr (June): targets of 31 Jan (Mar) and 28 Feb (Apr) ended: two, null
    assert m[(END[4], JUN, "empirical")]["forecast_amount_reporting"] is None


def test_toy_b_empirical_rates_and_new_business(toy_b):
    m = index(toy_b["mart_forecast_monthly"])
    # 30 Apr, horizon 0 (May): training origins 31 Jan, 28 Feb, 31 Mar (targets Feb, Mar, Apr).
    # r(4) = (a4 400 in Feb + b4 400 in Mar) / 1200 = 2/3
    # r(3) = (c3 200 in Apr; a3 won in March, outside Jan's target) / 600 = 1/3
    # r(2) = (c2 100 in Apr) / 300 = 1/3
    # new business: e 50 (Feb, created after 31 Jan), 0 (Mar), f 150 (Apr) -> mean 200/3
    # 100/3 + 200/3 + 800/3 + 200/3 = 1300/3
    assert m[(END[4], MAY, "empirical")]["forecast_amount_reporting"] == pytest.approx(1300 / 3)


def test_toy_b_naive_run_rate(toy_b):
    m = index(toy_b["mart_forecast_monthly"])
    # 30 Apr: Feb 450, Mar 700, Apr 450 -> 1600/3, the same for every horizon, booked not added
    for target in (MAY, JUN, date(2025, 7, 1)):
        assert m[(END[4], target, "naive")]["forecast_amount_reporting"] == pytest.approx(1600 / 3)
    # 31 Mar: Jan 0, Feb 450, Mar 700; 28 Feb would need December: null
    assert m[(END[3], date(2025, 4, 1), "naive")]["forecast_amount_reporting"] == pytest.approx(1150 / 3)
    assert m[(END[2], date(2025, 3, 1), "naive")]["forecast_amount_reporting"] is None


def test_toy_b_crm_weighted_and_actuals(toy_b):
    m = index(toy_b["mart_forecast_monthly"])
    # 30 Apr: May = d2 20 + d3 120 (overdue); June = d4 360; July = 0
    assert m[(END[4], MAY, "crm_weighted")]["forecast_amount_reporting"] == pytest.approx(140)
    assert m[(END[4], JUN, "crm_weighted")]["forecast_amount_reporting"] == pytest.approx(360)
    assert m[(END[4], date(2025, 7, 1), "crm_weighted")]["forecast_amount_reporting"] == 0
    assert m[(END[4], MAY, "crm_weighted")]["actual_won_amount_reporting"] == pytest.approx(400)
    # June ended at as_of (1 Jul 00:00): known, and 0 (nothing won); July is not known yet
    assert m[(END[5], JUN, "naive")]["actual_won_amount_reporting"] == 0
    assert m[(END[5], date(2025, 7, 1), "naive")]["actual_won_amount_reporting"] is None
    assert m[(END[5], JUN, "naive")]["open_deal_count"] == 2


def test_toy_b_accuracy(toy_b):
    acc = {(r["method"], r["horizon_months"]): r for r in toy_b["mart_forecast_accuracy"]}
    # naive, horizon 0: scored 31 Mar (F 1150/3, A 450) and 30 Apr (F 1600/3, A 400);
    # 31 May's June has A = 0 (excluded), Jan/Feb have no naive forecast.
    naive = acc[("naive", 0)]
    assert naive["n_origins"] == 2
    assert naive["wape"] == pytest.approx(200 / 850)
    assert naive["bias"] == pytest.approx((-200 / 3 + 400 / 3) / 850)  # errors -200/3 and +400/3
    assert naive["mape"] == pytest.approx(((200 / 3) / 450 + (400 / 3) / 400) / 2)
    assert naive["skill_vs_naive"] == pytest.approx(0)
    # crm_weighted, horizon 0: Jan/Feb/Mar forecast 0 (no dates) against 450/700/450, Apr 140
    # against 400: WAPE (450+700+450+260)/2000, bias the same negated, MAPE (1+1+1+0.65)/4.
    crm = acc[("crm_weighted", 0)]
    assert crm["n_origins"] == 4
    assert crm["wape"] == pytest.approx(1860 / 2000)
    assert crm["bias"] == pytest.approx(-1860 / 2000)
    assert crm["mape"] == pytest.approx(3.65 / 4)
    # skill over the rows naive forecasts too (Mar, Apr): crm errors 450 + 260, naive 200/3 + 400/3
    assert crm["skill_vs_naive"] == pytest.approx(1 - 710 / 200)


def test_a_source_connected_later_gets_every_origin_of_the_calendar():
    """Origins run from the first live deal of any source: a Pipedrive account whose first deal
    is created on 5 Feb still has the 31 Jan origin, with nothing open and nothing forecast."""
    deals = [
        deal("x", datetime(2025, 1, 5), "open", None, 100),
        {**deal("p", datetime(2025, 2, 5), "open", None, 50), "deal_id": "pipedrive:p", "source": "pipedrive"},
    ]
    snapshot = [
        snap(JAN31, "x", 2, 100, 20, date(2025, 2, 3)),
        {**snap(FEB14, "p", 2, 50, 50, date(2025, 2, 20)), "deal_id": "pipedrive:p", "source": "pipedrive"},
    ]
    rows = forecast_marts(snapshot, deals, as_of_date=FEB14)["mart_forecast_monthly"]
    pipedrive = {(r["origin_date"], r["target_month"], r["method"]): r for r in rows if r["source"] == "pipedrive"}
    assert len(pipedrive) == 18
    assert pipedrive[(JAN31, FEB, "crm_weighted")]["open_deal_count"] == 0
    assert pipedrive[(JAN31, FEB, "crm_weighted")]["forecast_amount_reporting"] == 0
    assert pipedrive[(FEB14, FEB, "crm_weighted")]["forecast_amount_reporting"] == pytest.approx(50)
