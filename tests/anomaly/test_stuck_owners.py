"""The owner scan of `stuck_deals`: the span's count owner by owner (a rep's frozen book), checked
by hand and against SciPy on a simulated step written here, and end to end through the check on
an in-memory warehouse with ``marts.fct_deals``' owners."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from scipy import stats as sps

from evaluation.fast.relations import connection
from warehouse.anomaly.checks import run_check
from warehouse.anomaly.checks.base import decide_family
from warehouse.anomaly.checks.stuck_count import expected_still_open_jeffreys, span_count_test, stuck_span
from warehouse.anomaly.checks.stuck_owners import NO_OWNER, owner_tests, owners_of
from warehouse.anomaly.checks.visits import Visits

END = 700.0
AGE = 35.0  # 5 x a usual dwell of 7 days
WINDOW = 56.0
BASELINE = 182.0
OWNERS = ("o1", "o2", "o3", "o4", "o5", "o6")


def _step(seed: int, per_day: float, frozen: int = 0) -> tuple[Visits, list[str]]:
    """A step entered ``per_day`` times a day for 600 days by six owners, lognormal dwell (median
    7 days) with 8% of the visits stalling 10x; then owner o1's last ``frozen`` entries before
    E − 38.5 days never leave (a rep's book left there). Returns the visits and each one's owner."""
    rng = np.random.default_rng(seed)
    entered = np.sort(rng.uniform(END - 600, END, rng.poisson(per_day * 600)))
    dwell = 7.0 * np.exp(rng.normal(0, 0.8, len(entered))) * np.where(rng.random(len(entered)) < 0.08, 10.0, 1.0)
    exited = entered + dwell
    owner = rng.choice(OWNERS, len(entered))
    book = np.flatnonzero((owner == "o1") & (entered < END - 38.5) & (exited < END))[::-1][:frozen]
    exited[book] = np.nan
    exited[exited >= END] = np.nan
    n = len(entered)
    v = Visits(
        np.array([f"d{i}" for i in range(n)], dtype=object),
        np.array(["negotiation"] * n, dtype=object),
        np.ones(n, dtype=np.int64),
        entered,
        exited,
        np.where(np.isnan(exited), "", "won").astype(object),
    )
    return v, list(owner)


def test_each_owner_is_a_count_of_their_entries_against_their_own_expectation():
    v, owner = _step(1, 8.0)
    sp = stuck_span(v, AGE, END, WINDOW, BASELINE)
    tests = owner_tests(sp, np.array(owner, dtype=object)[sp.mask])
    assert set(tests) == set(OWNERS)
    whole = span_count_test(sp)
    assert sum(t["value"] for t in tests.values()) == whole["value"]
    assert sum(t["n"] for t in tests.values()) == whole["n"]
    span_owner = np.array(owner, dtype=object)[sp.mask]
    for o, t in tests.items():  # by hand: the owner's entries, their open ones, their expectation
        sel = span_owner == o
        assert t["n"] == sel.sum() and t["value"] == int(np.isinf(sp.dwell[sel]).sum())
        assert t["open_mask"].sum() == t["value"]
        mu, var = expected_still_open_jeffreys(sp.ages[sel], sp.dwell0, sp.scale[sel])
        assert t["expected"] == pytest.approx(mu, rel=1e-12)
        size = mu * mu / var
        dist = sps.nbinom(size, size / (size + mu))  # SciPy's negative binomial of mean mu, variance mu + var
        assert t["p"] == pytest.approx(dist.sf(t["value"] - 1), rel=1e-7)
    assert decide_family({o: {k: x for k, x in t.items() if k != "open_mask"} for o, t in tests.items()}, 0.002) == []


def test_a_deal_without_an_owner_or_a_deal_row_is_its_own_segment():
    deals = [{"deal_id": "a", "owner_id": "o1"}, {"deal_id": "c", "owner_id": None}, {"deal_id": "d", "owner_id": "o2"}]
    con = connection([], [], deals=deals)
    ids = np.array(["d", "b", "a", "c", "a"], dtype=object)
    assert list(owners_of(con, ids)) == ["o2", NO_OWNER, "o1", NO_OWNER, "o1"]  # in the order asked
    assert list(owners_of(con, ids[:0])) == []


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_a_reps_frozen_book_is_flagged_by_owner_where_the_step_total_hardly_moves(seed):
    v, owner = _step(seed, 20.0, frozen=20)
    sp = stuck_span(v, AGE, END, WINDOW, BASELINE)
    tests = owner_tests(sp, np.array(owner, dtype=object)[sp.mask])
    for t in tests.values():
        t.pop("open_mask")
    assert decide_family(tests, 0.002) == ["o1"]
    assert tests["o1"]["value"] >= 20 and tests["o1"]["expected"] < 0.6 * tests["o1"]["value"]
    total = span_count_test(sp)
    assert tests["o1"]["p"] < total["p"] / 10  # the owner's count is the sharper signal than the step's


def _at(day: float, end: datetime) -> datetime | None:
    """A simulated day (END = ``end``) as a timestamp; NaN (open) stays None."""
    return None if math.isnan(day) else end - timedelta(days=END - float(day))


def _visit(did: str, step: str, k: int, entered: datetime, exited: datetime | None) -> dict:
    return {"deal_id": did, "funnel_step": step, "visit_number": k, "entered_at": entered, "exited_at": exited}


def test_the_check_names_the_owner_and_lists_their_stuck_deals_oldest_first():
    as_of = date(2026, 10, 31)
    end = datetime(2026, 11, 1)
    v, owner = _step(5, 20.0, frozen=25)
    visits = [
        _visit(str(d), "negotiation", 1, _at(e, end), _at(x, end))
        for d, e, x in zip(v.deal_id, v.entered, v.exited, strict=True)
    ]
    visits = [x for x in visits if x["entered_at"] < end]
    deals = [{"deal_id": str(d), "owner_id": o} for d, o in zip(v.deal_id, owner, strict=True)]
    outcome = run_check(connection(visits, [], deals=deals), as_of, "stuck_deals")
    md = outcome.metadata
    assert not outcome.passed and "negotiation:owner o1" in md["flagged_segments"]
    seg = md["segments"]["negotiation:owner o1"]
    assert seg["owner_id"] == "o1" and seg["value"] >= 25 and seg["p_adjusted"] <= 0.002
    assert {"expected", "p", "n", "entered_from", "entered_to", "window_start", "window_end"} <= set(seg)
    ids = seg["sample_ids"]
    assert len(ids) == 20 and {owner[int(i[1:])] for i in ids} == {"o1"}
    entered = {x["deal_id"]: x["entered_at"] for x in visits}
    assert [entered[i] for i in ids] == sorted(entered[i] for i in ids)  # oldest first
    assert "owner o1's deals left stuck in negotiation" in outcome.description
