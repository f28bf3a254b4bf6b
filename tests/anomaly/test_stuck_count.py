"""The count test of `stuck_deals`: open deals that became stuck in the window against the number
expected from the same entries (the baseline's survival on the entries' own time scale), with
the pieces checked by hand or against SciPy on simulated steps written here."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from warehouse.anomaly.checks.base import decide_family
from warehouse.anomaly.checks.stuck_count import (
    SUBSET_MIN_SUPPORT,
    before_tested_dwell,
    expected_still_open,
    expected_still_open_jeffreys,
    pace_ratio,
    span_count_test,
    stuck_count_test,
    stuck_span,
)
from warehouse.anomaly.checks.stuck_weeks import entry_week_tests
from warehouse.anomaly.checks.visits import Visits, usual_dwell
from warehouse.anomaly.thresholds import NOT_ENOUGH_DATA

END = 700.0
AGE = 35.0  # 5 x a usual dwell of 7 days
WINDOW = 56.0
BASELINE = 182.0


def _visits(rows: list[tuple[float, float | None]]) -> Visits:
    n = len(rows)
    return Visits(
        np.array([f"d{i}" for i in range(n)], dtype=object),
        np.array(["negotiation"] * n, dtype=object),
        np.ones(n, dtype=np.int64),
        np.array([r[0] for r in rows], dtype=float),
        np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=float),
        np.array(["" if r[1] is None else "won" for r in rows], dtype=object),
    )


def _step(seed: int, per_day: float, slow_last: float = 1.0) -> list[tuple[float, float | None]]:
    """A step entered ``per_day`` times a day for 600 days, lognormal dwell (median 7 days) with
    8% of the visits stalling 10x; entries of the last 120 days move ``slow_last`` x slower."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[float, float | None]] = []
    for entered in np.sort(rng.uniform(END - 600, END, rng.poisson(per_day * 600))):
        dwell = 7.0 * math.exp(rng.normal(0, 0.8)) * (10.0 if rng.random() < 0.08 else 1.0)
        dwell *= slow_last if entered > END - 120 else 1.0
        exited = float(entered + dwell)
        rows.append((float(entered), exited if exited < END else None))
    return rows


def test_expected_still_open_is_the_baseline_survival_at_each_rescaled_age():
    dwell0 = np.array([1.0, 2.0, 3.0, 4.0, math.inf])
    assert expected_still_open(np.array([2.5]), dwell0, 1.0)[0] == pytest.approx(3 / 5)  # 3, 4, inf > 2.5
    assert expected_still_open(np.array([2.5]), dwell0, 2.0)[0] == pytest.approx(4 / 5)  # 2.5 / 2 = 1.25
    assert expected_still_open(np.array([2.5, 10.0]), dwell0, 1.0)[0] == pytest.approx(4 / 5)  # + only inf
    assert expected_still_open(np.array([2.5, 10.0]), dwell0, np.array([1.0, 5.0]))[0] == pytest.approx(6 / 5)
    assert expected_still_open(np.array([2.5]), np.array([]), 1.0) == (0.0, 0.0)


def test_the_expectations_variance_is_its_spread_over_resampled_baselines():
    rng = np.random.default_rng(9)
    ages = rng.uniform(35, 91, 300)
    population = 7.0 * np.exp(rng.normal(0, 0.8, 200_000)) * np.where(rng.random(200_000) < 0.08, 10.0, 1.0)
    draws = [expected_still_open(ages, rng.choice(population, 2000), 1.0) for _ in range(400)]
    means = np.array([m for m, _ in draws])
    assert np.mean([v for _, v in draws]) == pytest.approx(means.var(ddof=1), rel=0.2)


def test_pace_is_the_time_scale_of_the_exits_and_ignores_deals_that_never_leave():
    rng = np.random.default_rng(3)
    base = rng.lognormal(math.log(7), 0.8, 4000)
    slow = 1.4 * rng.lognormal(math.log(7), 0.8, 1500)
    batch = np.full(200, math.inf)  # a batch left behind: never exits
    assert pace_ratio(np.concatenate([slow, batch]), base, AGE) == pytest.approx(1.4, rel=0.08)
    assert pace_ratio(0.8 * base, base, AGE) == pytest.approx(0.8, rel=1e-3)  # the exact fixed point
    assert pace_ratio(base[:5], base, AGE) == 1.0  # too few exits: the usual pace
    assert pace_ratio(base[:5], base, AGE, fallback=1.2) == 1.2
    assert pace_ratio(0.8 * base[:60], base, AGE, min_exits=100, fallback=1.1) == 1.1
    assert pace_ratio(3 * base, base, AGE) == 2.0  # clipped


def test_count_is_the_open_visits_that_became_stuck_in_the_window_with_a_poisson_tail():
    rows = _step(1, 6.0)
    res = stuck_count_test(_visits(rows), AGE, END, WINDOW, BASELINE)
    lo, hi = END - AGE - WINDOW, END - AGE
    assert res["value"] == sum(1 for e, x in rows if lo <= e < hi and x is None)
    assert res["n"] == sum(1 for e, _ in rows if lo <= e < hi)
    # the expectation, by hand: each entry's chance, among the baseline's entries, of a longer dwell
    base = [(x if x is not None else math.inf) - e for e, x in rows if lo - BASELINE <= e < lo]
    ages = [END - e for e, _ in rows if lo <= e < hi]
    paces = res["pace_by_half"]  # entries aged (AGE, AGE + 28], (AGE + 28, AGE + 56]
    assert len(paces) == 2 and all(0.85 < c < 1.15 for c in paces)
    by_hand = sum(sum(d > a / paces[math.ceil((a - AGE) / 28) - 1] for d in base) / len(base) for a in ages)
    assert res["expected"] == pytest.approx(by_hand, rel=1e-9)
    # its sampling variance, by hand: the spread over baseline visits of how many ages each outlasts
    w = [sum(a / paces[math.ceil((a - AGE) / 28) - 1] < d for a in ages) for d in base]
    assert res["expected_sd"] ** 2 == pytest.approx(np.var(w, ddof=1) / len(base), rel=1e-9)
    # negative binomial of mean mu and variance mu + Var(mu): SciPy's nbinom(size, size / (size + mu))
    mu = res["expected"]
    size = mu**2 / res["expected_sd"] ** 2
    dist = sps.nbinom(size, size / (size + mu))
    assert res["p"] == pytest.approx(dist.sf(res["value"] - 1), rel=1e-7)
    assert res["min_p"] == pytest.approx(dist.sf(res["n"] - 1), rel=1e-6, abs=1e-300)
    assert 0.97 < res["pace"] < 1.03 and res["p"] > 0.01  # the usual pace, no batch


@pytest.mark.parametrize("slow", [1.0, 1.5, 0.7])
def test_a_step_moving_slower_or_faster_as_a_whole_is_not_a_stuck_batch(slow):
    for seed in (2, 3, 4):
        res = stuck_count_test(_visits(_step(seed, 20.0, slow_last=slow)), AGE, END, WINDOW, BASELINE)
        assert res["pace"] == pytest.approx(slow, rel=0.1)
        assert res["p"] > 1e-3


def test_a_batch_left_behind_is_flagged_and_a_tiny_step_has_no_power():
    rows = _step(5, 6.0)
    rng = np.random.default_rng(5)
    rows += [(END - 38.5 - float(rng.uniform(0, 45)), None) for _ in range(50)]  # 5.5 x 7 days + 0-45
    tests = {"negotiation": stuck_count_test(_visits(rows), AGE, END, WINDOW, BASELINE)}
    tiny = _step(6, 0.01)
    tests["presentation"] = stuck_count_test(_visits(tiny), AGE, END, WINDOW, BASELINE)
    assert decide_family(tests, 0.002) == ["negotiation"]
    assert tests["negotiation"]["value"] >= 50 + 0.5 * tests["negotiation"]["expected"]
    assert tests["presentation"]["status"] == NOT_ENOUGH_DATA


def test_entry_weeks_partition_the_span_and_each_is_a_count_against_its_own_expectation():
    rows = _step(7, 6.0)
    v = _visits(rows)
    sp = stuck_span(v, AGE, END, WINDOW, BASELINE)
    weeks = entry_week_tests(sp, AGE, END, WINDOW)
    assert len(weeks) == 8
    whole = span_count_test(sp)
    assert sum(w["n"] for w in weeks) == whole["n"] and sum(w["value"] for w in weeks) == whole["value"]
    n0 = len(sp.dwell0)
    # Jeffreys' half-count prior: half a baseline visit outlasting every age, half leaving at once
    plain = sum(w["expected"] * (n0 + 1) - 0.5 * w["n"] for w in weeks) / n0
    assert plain == pytest.approx(whole["expected"], rel=1e-9)
    for k, w in enumerate(weeks):  # by hand: entries aged (AGE + 7k, AGE + 7(k + 1)] at END
        sel = [(e, x) for e, x in rows if AGE + 7 * k < END - e <= AGE + 7 * (k + 1)]
        assert w["n"] == len(sel) and w["value"] == sum(x is None for _, x in sel)
        assert w["open_in_week"].sum() == w["value"]
        youngest = min((END - e) / sp.scale[0] for e, _ in sel) if sp.scale.min() == sp.scale.max() else None
        if youngest is not None:
            assert w["support"] == int((sp.dwell0 > youngest).sum()) >= SUBSET_MIN_SUPPORT
        size = w["expected"] ** 2 / w["expected_sd"] ** 2
        dist = sps.nbinom(size, size / (size + w["expected"]))
        assert w["p"] == pytest.approx(dist.sf(w["value"] - 1), rel=1e-7)
    assert weeks[0]["entered_to"] > weeks[-1]["entered_from"]  # the first week is the newest


def test_a_batch_moved_in_together_and_left_there_is_one_entry_week_that_stayed():
    rows = _step(8, 20.0)
    clean = {f"negotiation:entry week {k + 1}": w for k, w in enumerate(_weeks(rows))}
    assert decide_family(clean, 0.002) == []
    day = END - AGE - 17.3  # 20 deals moved into the step on one day, 17 days after it they crossed 5 x m
    batch = rows + [(day + 0.01 * i, None) for i in range(20)]
    tests = {f"negotiation:entry week {k + 1}": w for k, w in enumerate(_weeks(batch))}
    whole = {"negotiation": stuck_count_test(_visits(batch), AGE, END, WINDOW, BASELINE)}
    assert decide_family(tests, 0.002) == ["negotiation:entry week 3"]
    assert tests["negotiation:entry week 3"]["value"] >= 20
    assert tests["negotiation:entry week 3"]["p"] < 1e-3 * whole["negotiation"]["p"]  # sharper than the 8 weeks


def _weeks(rows):
    sp = stuck_span(_visits(rows), AGE, END, WINDOW, BASELINE)
    out = entry_week_tests(sp, AGE, END, WINDOW)
    for w in out:
        w.pop("open_in_week")
    return out


def test_an_entry_week_whose_ages_no_baseline_visit_reached_has_not_enough_data():
    rows = [(END - 400 + 0.5 * i, END - 400 + 0.5 * i + 3.0) for i in range(600)]  # baseline: all leave in 3 days
    rows += [(END - AGE - 3.0 - 0.1 * i, None) for i in range(3)]  # three entries still open
    sp = stuck_span(_visits(rows), AGE, END, WINDOW, BASELINE)
    weeks = {f"negotiation:entry week {k + 1}": w for k, w in enumerate(_weeks_of(sp))}
    assert weeks["negotiation:entry week 1"]["support"] == 0 and weeks["negotiation:entry week 1"]["value"] == 3
    decide_family(weeks, 0.002)
    assert weeks["negotiation:entry week 1"]["status"] == NOT_ENOUGH_DATA


def _weeks_of(sp):
    out = entry_week_tests(sp, AGE, END, WINDOW)
    for w in out:
        w.pop("open_in_week")
    return out


def test_the_expectations_sums_from_the_ages_side_equal_the_sums_over_baseline_visits():
    rng = np.random.default_rng(11)
    dwell0 = np.concatenate([np.round(rng.lognormal(2, 1, 300)), [math.inf] * 7])  # ties and open visits
    ages = np.concatenate([np.round(rng.uniform(5, 60, 40)), [20.0, 20.0]])
    pace = rng.uniform(0.8, 1.2, len(ages))
    w = np.searchsorted(np.sort(ages / pace), dwell0, side="left").astype(float)  # w_j, directly
    n0 = len(dwell0)
    assert expected_still_open(ages, dwell0, pace) == pytest.approx((w.mean(), w.var(ddof=1) / n0), rel=1e-12)
    wj = np.concatenate([w, [len(ages), 0.0]])
    weights = np.concatenate([np.ones(n0), [0.5, 0.5]])
    mean = np.average(wj, weights=weights)
    var = np.average((wj - mean) ** 2, weights=weights) * (n0 + 1) / n0 / (n0 + 1)
    assert expected_still_open_jeffreys(ages, dwell0, pace, np.sort(dwell0)) == pytest.approx((mean, var), rel=1e-12)


def test_a_batch_that_is_most_of_a_small_steps_entries_still_leaves_it_a_usual_dwell():
    rows = _step(8, 0.15)  # ~27 entries in the 182 days before the last 4 weeks
    rng = np.random.default_rng(8)
    rows += [(END - float(rng.uniform(40, 90)), None) for _ in range(60)]  # never leave
    v = _visits(sorted(rows, key=lambda r: r[0]))
    first = usual_dwell(v, END - 28, 182)
    assert first is None  # the batch's own 182 days: their median is never reached
    m = before_tested_dwell(v, END)
    assert m is not None and 3 < m < 15  # the step's own (median 7 days), from before the batch
