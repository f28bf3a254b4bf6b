"""The statistics added for small accounts, cross-checked with SciPy or a brute force written
here: attainable levels of discrete tests, the discrete (Tarone) Holm, the per-channel dispersion,
the log-rank-type exit-rate test of `stage_dwell_spike` and the stuck check's usual dwell."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pytest
from scipy import stats as sps

from warehouse.anomaly import exact
from warehouse.anomaly.checks.base import decide_family
from warehouse.anomaly.checks.lead_volume import channel_tests, shrunk_dispersion
from warehouse.anomaly.checks.stuck_count import before_tested_dwell
from warehouse.anomaly.checks.visits import Visits, exit_rate_test, usual_dwell
from warehouse.anomaly.thresholds import NOT_ENOUGH_DATA


@pytest.mark.parametrize("mu,size", [(8.0, math.inf), (8.0, 40.0), (2.5, 5.0), (30.0, 100.0)])
@pytest.mark.parametrize("t", [1e-5, 1e-3, 0.01, 0.2])
def test_attainable_levels_are_scipys_largest_tail_at_or_below_t(mu, size, t):
    if math.isinf(size):
        cdf, sf = sps.poisson(mu).cdf, sps.poisson(mu).sf
    else:
        dist = sps.nbinom(size, size / (size + mu))
        cdf, sf = dist.cdf, dist.sf
    ks = np.arange(0, 400)
    lower = [c for c in cdf(ks) if c <= t]
    upper = [s for s in sf(ks - 1) if s <= t]
    got_lo = exact.attainable_cdf(lambda k: exact.negbin_cdf(k, mu, size), t)
    got_hi = exact.attainable_sf(lambda k: exact.negbin_sf(k, mu, size), t, math.ceil(mu))
    assert got_lo == pytest.approx(max(lower, default=0.0), rel=1e-8, abs=1e-300)
    assert got_hi == pytest.approx(max(upper, default=0.0), rel=1e-8, abs=1e-300)


def test_discrete_holm_is_holm_for_continuous_tests():
    ps = [0.001, 0.04, 0.013, 0.5, 0.0002]
    assert exact.discrete_holm(ps, [None] * len(ps)) == pytest.approx(exact.holm(ps))


def test_discrete_holm_by_hand():
    # three Poisson drop tests: mu 8 (observed 1), mu 3 and mu 1.2 (observed at their mean)
    mus, obs = [8.0, 3.0, 1.2], [1, 3, 1]
    ps = [sps.poisson.cdf(x, m) for x, m in zip(obs, mus, strict=True)]
    funcs = [lambda t, m=m: exact.attainable_cdf(lambda k: exact.poisson_cdf(k, m), t) for m in mus]
    adj = exact.discrete_holm(ps, funcs)
    # at t = P(X <= 1 | 8) = 0.003, the mu-3 test can only produce P(0 | 3) = 0.0498 > t and the
    # mu-1.2 test nothing below 0.30: they add 0, so the adjusted p is the p itself (Holm: 3 x p)
    assert ps[0] == pytest.approx(0.0030192, rel=1e-4)
    assert adj[0] == pytest.approx(ps[0], rel=1e-12)
    assert exact.holm(ps)[0] == pytest.approx(3 * ps[0])
    # second rank: t = P(X <= 3 | 3) = 0.647; the mu-1.2 test's largest level below it is
    # P(X <= 0 | 1.2) = 0.301; the last rank keeps that running maximum (its own 0.663 is smaller)
    assert adj[1] == pytest.approx(ps[1] + sps.poisson.cdf(0, 1.2), rel=1e-9)
    assert adj[2] == adj[1]


def test_discrete_holm_keeps_the_family_wise_error_under_the_null():
    # 10 independent Poisson channels of 2-30 a week, all under the null: FWER <= alpha
    rng = np.random.default_rng(11)
    mus = np.array([2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 8.0, 10.0, 15.0, 30.0])
    funcs = [lambda t, m=m: exact.attainable_cdf(lambda k: exact.poisson_cdf(k, m), t) for m in mus]
    alpha, runs, errors = 0.05, 1500, 0
    for _ in range(runs):
        x = rng.poisson(mus)
        ps = [float(sps.poisson.cdf(k, m)) for k, m in zip(x, mus, strict=True)]
        errors += min(exact.discrete_holm(ps, funcs)) <= alpha
    assert errors / runs <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / runs)


def test_a_segment_that_cannot_reach_the_budget_says_not_enough_data():
    tests = {
        "big": {**channel_tests(1.0, 8.0, 1.0, 1 / 96)["drop"]},
        "tiny": {**channel_tests(0.0, 2.0, 1.0, 1 / 24)["drop"]},
    }
    flagged = decide_family(tests, 0.01)
    assert tests["tiny"]["status"] == NOT_ENOUGH_DATA and tests["tiny"]["p_adjusted"] is None
    assert flagged == ["big"] and tests["big"]["family_size"] == 1
    assert "attainable" not in tests["big"]  # callables never reach the metadata


def test_channel_dispersion_shrinks_toward_the_pooled_value():
    steady = [8.0, 7.0, 9.0, 8.0, 8.0, 7.0, 9.0, 8.0, 8.0, 7.0, 9.0, 8.0]
    chi2 = sum((c - 8.0) ** 2 for c in steady) / 8.0
    assert shrunk_dispersion(chi2, 11, 1.3) == pytest.approx(max(1.0, (chi2 + 11 * 1.3) / 22))
    assert shrunk_dispersion(chi2, 11, 3.0) == pytest.approx((chi2 + 33.0) / 22)
    assert shrunk_dispersion(0.0, 0, 1.4) == 1.4


# ---------------------------------------------------------------- exits per deal-day by age


def _visits(rows: list[tuple[float, float | None]]) -> Visits:
    n = len(rows)
    return Visits(
        np.array([f"d{i}" for i in range(n)], dtype=object),
        np.array(["presentation"] * n, dtype=object),
        np.ones(n, dtype=np.int64),
        np.array([r[0] for r in rows], dtype=float),
        np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=float),
        np.array(["" if r[1] is None else "negotiation" for r in rows], dtype=object),
    )


def _brute_force(rows, end, window, baseline, edges):
    """Day-sliced exposure and exits per age band, in plain Python (1/100-day steps)."""
    w_lo, b_lo = end - window, end - window - baseline
    nb = len(edges) - 1

    def band(age):
        for j in range(nb):
            if edges[j] <= age < edges[j + 1]:
                return j
        return None

    t0, t, o0 = [0.0] * nb, [0.0] * nb, [0] * nb
    o = 0
    step = 0.01
    for entered, exited in rows:
        stop = end if exited is None else exited
        s = entered
        while s < stop - 1e-12:
            j = band(s - entered + step / 2)
            if j is not None:
                if b_lo <= s < w_lo:
                    t0[j] += step
                elif w_lo <= s < end:
                    t[j] += step
            s += step
        if exited is not None and band(exited - entered) is not None:
            if b_lo <= exited < w_lo:
                o0[band(exited - entered)] += 1
            elif w_lo <= exited < end:
                o += 1
    hazard = [a / b if b else 0.0 for a, b in zip(o0, t0, strict=True)]
    return o, sum(h * x for h, x in zip(hazard, t, strict=True)), sum(o0)


def test_exit_rate_test_matches_a_brute_force_and_scipys_binomial():
    rng = np.random.default_rng(5)
    end = 400.0
    rows: list[tuple[float, float | None]] = []
    for entered in np.sort(rng.uniform(150, end, 300)):
        dwell = float(rng.lognormal(math.log(10), 0.7))
        slow = 3.0 if entered + dwell > end - 28 else 1.0  # the last 4 weeks run slower
        exited = entered + dwell * slow
        rows.append((round(float(entered), 2), round(exited, 2) if exited < end else None))
    edges = 10.0 * np.asarray([0, 0.5, 1, 2, 5])
    res = exit_rate_test(_visits(rows), end, 28, 182, edges)
    o, expected, x0 = _brute_force(rows, end, 28, 182, list(edges))
    assert res["exits"] == o and res["baseline_exits"] == x0
    assert res["expected_exits"] == pytest.approx(expected, rel=0.02)
    assert res["value"] < 0.6  # a third of the usual pace, roughly
    if res["dispersion"] == 1.0:
        share = res["expected_exits"] / (res["expected_exits"] + x0)
        assert res["p"] == pytest.approx(sps.binom.cdf(o, o + x0, share), rel=1e-8)
    assert res["p"] < 1e-4 and res["min_p"] < res["p"]


def test_exit_rate_test_is_quiet_at_the_usual_pace():
    rng = np.random.default_rng(6)
    end = 400.0
    rows: list[tuple[float, float | None]] = []
    for entered in rng.uniform(150, end, 400):
        exited = float(entered + rng.lognormal(math.log(10), 0.7))
        rows.append((float(entered), exited if exited < end else None))
    res = exit_rate_test(_visits(rows), end, 28, 182, 10.0 * np.asarray([0, 0.5, 1, 2, 5]))
    assert 0.7 < res["value"] < 1.3 and res["p"] > 0.01


def test_stuck_deals_usual_dwell_ignores_a_batch_left_behind():
    rng = np.random.default_rng(7)
    end = 500.0
    rows: list[tuple[float, float | None]] = []
    for entered in rng.uniform(100, end, 120):
        exited = float(entered + rng.lognormal(math.log(6), 0.5))
        rows.append((float(entered), exited if exited < end else None))
    rows += [(end - 33 - float(rng.uniform(0, 45)), None) for _ in range(50)]  # 5.5 x 6 days + 0-45
    v = _visits(rows)
    plain = usual_dwell(v, end - 28, 182)
    robust = before_tested_dwell(v, end)
    assert plain is not None and robust is not None
    assert plain > 9  # the batch, at risk at every age, drags the KM hazard down
    assert robust == pytest.approx(6, rel=0.25)


def test_visit_helper_dates_are_epoch_days():
    # the fixtures above use epoch days directly; the loader converts timestamps the same way
    assert (datetime(1970, 1, 1) + timedelta(days=400.0)).date().isoformat() == "1971-02-05"


def test_reported_p_values_keep_significant_digits():
    from warehouse.anomaly.checks import dwell
    from warehouse.anomaly.checks.base import exact_outcome

    tests = {"presentation": {"p": 1.234567e-11, "min_p": 3e-30, "value": 0.2834251}}
    flagged = decide_family(tests, 0.002)
    meta = exact_outcome(dwell.SPEC, tests, flagged, "", 0.002).metadata["segments"]["presentation"]
    assert meta["p"] == 1.23e-11 and meta["p_adjusted"] == 1.23e-11 and meta["min_p"] == 3e-30
    assert meta["value"] == 0.283425 and meta["status"] == "flagged"
