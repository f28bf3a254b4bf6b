"""`lead_volume_anomaly`'s statistics cross-checked with SciPy / NumPy computed here (the Poisson
log-linear fit, the share's Pearson χ², the negative-binomial tails), and the check on hand-made
lead counts: a yearly wave's descent shared by every channel is quiet, a collapse is not."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import numpy as np
import pytest
from scipy import optimize
from scipy import stats as sps

from evaluation.fast.relations import connection
from warehouse.anomaly.checks import run_check
from warehouse.anomaly.checks.lead_volume import (
    channel_tests,
    expected_week,
    loglinear_drift,
    share_pearson,
)
from warehouse.anomaly.thresholds import LEAD_BASELINE_WEEKS

AS_OF = date(2026, 10, 31)


def _scipy_poisson_fit(counts: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b) maximising the Poisson log-likelihood of log E = a + b·t, t = −1, −2, …; the design
    and the fitted means."""
    t = -np.arange(1, len(counts) + 1, dtype=float)
    y = np.asarray(counts, dtype=float)
    x = np.column_stack([np.ones_like(t), t])

    def nll(beta: np.ndarray) -> float:
        eta = x @ beta
        return float(np.sum(np.exp(eta) - y * eta))

    res = optimize.minimize(nll, np.array([math.log(y.mean()), 0.0]), method="BFGS", options={"gtol": 1e-10})
    return res.x, x, np.exp(x @ res.x)


@pytest.mark.parametrize("slope", [-0.04, 0.0, 0.03])
def test_loglinear_drift_is_the_poisson_mle_with_its_slope_shrunk(slope):
    rng = np.random.default_rng(3)
    counts = [float(c) for c in rng.poisson(150 * np.exp(slope * -np.arange(1, 13)))]
    beta, x, mu = _scipy_poisson_fit(counts)
    drift = loglinear_drift(counts)
    assert drift is not None
    assert drift.raw_slope == pytest.approx(beta[1], abs=1e-5)
    phi = max(1.0, float(np.sum((np.asarray(counts) - mu) ** 2 / mu)) / (len(counts) - 2))
    se2 = phi * np.linalg.inv(x.T @ (mu[:, None] * x))[1, 1]  # the slope's variance, from the Fisher information
    keep = max(0.0, 1 - se2 / beta[1] ** 2)
    assert drift.dispersion == pytest.approx(phi, rel=1e-4)
    assert drift.slope == pytest.approx(keep * beta[1], rel=1e-3, abs=1e-6)
    # refitted for the shrunk slope: the fitted weeks add up to the observed ones
    t = -np.arange(1, 13)
    assert drift.expected * np.exp(drift.slope * t).sum() == pytest.approx(sum(counts))
    if slope == 0.0:  # no trend: the slope is shrunk to a fraction of its noise
        assert abs(drift.slope) < 0.3 * abs(drift.raw_slope)


def test_a_clear_descent_is_followed_and_a_few_leads_are_not_extrapolated():
    descent = [116 * math.exp(0.035 * i) for i in range(12)]  # 171 -> 116 over 12 weeks, like seed 8
    drift = loglinear_drift([round(c) for c in descent])
    assert drift is not None and drift.slope == pytest.approx(-0.035, abs=0.004)
    assert drift.expected == pytest.approx(112, rel=0.03)  # one more step down, not the 12-week mean of 141
    sparse = loglinear_drift([3, 5, 2, 4, 6, 3, 4, 2, 5, 4, 3, 4])  # noisy, a slope it cannot tell from 0
    assert sparse is not None and abs(sparse.slope) < abs(sparse.raw_slope) / 2
    assert loglinear_drift([0.0] * 12) is None
    for stopped in ([5.0] + [0.0] * 11, [0.0] * 11 + [5.0]):  # leads in one week only: a finite fit
        drift = loglinear_drift(stopped)
        assert drift is not None and all(map(math.isfinite, (drift.expected, drift.log_var, drift.slope)))


def test_share_pearson_is_the_contingency_chi2_of_channel_vs_the_others():
    channel = [7.0, 9.0, 4.0, 8.0, 12.0, 6.0, 7.0, 5.0, 9.0, 8.0]
    others = [60.0, 72.0, 58.0, 66.0, 70.0, 61.0, 64.0, 59.0, 75.0, 68.0]
    chi2, df = share_pearson(channel, others)
    ref = sps.chi2_contingency(np.array([channel, others]), correction=False)
    assert chi2 == pytest.approx(ref.statistic, rel=1e-10) and df == ref.dof
    # an account-wide swing (every channel x 0.5 then x 1.5) leaves the share's χ² unchanged
    swing = [0.5 if i % 2 else 1.5 for i in range(10)]
    chi2_s, _ = share_pearson(
        [c * s for c, s in zip(channel, swing, strict=True)], [o * s for o, s in zip(others, swing, strict=True)]
    )
    ref_s = sps.chi2_contingency(np.array([channel, others]) * np.array(swing), correction=False)
    assert chi2_s == pytest.approx(ref_s.statistic, rel=1e-10)
    # the only channel: counts around their mean (Poisson Pearson)
    alone, d = share_pearson(channel, [0.0] * 10)
    assert alone == pytest.approx(np.sum((np.array(channel) - 7.5) ** 2) / 7.5) and d == 9


@pytest.mark.parametrize(
    "mean,phi,log_var,observed", [(7.9, 1.0, 0.006, 1), (30.0, 1.3, 0.01, 12), (150, 1.0, 0.02, 95)]
)
def test_channel_tests_are_scipys_negative_binomial_of_that_variance(mean, phi, log_var, observed):
    res = channel_tests(float(observed), mean, phi, log_var)
    size = res["drop"]["nb_size"]
    dist = sps.nbinom(size, size / (size + mean))
    assert dist.var() == pytest.approx(phi * mean + mean**2 * log_var, rel=1e-9)
    assert res["drop"]["p"] == pytest.approx(dist.cdf(observed), rel=1e-7)
    assert res["spike"]["p"] == pytest.approx(dist.sf(observed - 1), rel=1e-7)


def test_expected_week_is_the_share_of_the_others_trend():
    others = [80.0] + [100 * math.exp(-0.03 * i) for i in range(1, LEAD_BASELINE_WEEKS + 1)]
    baseline = [o / 10 for o in others[1:]]  # a tenth of the others' leads every week
    exp = expected_week(baseline, others)
    assert exp.drift is not None and exp.share == pytest.approx((sum(baseline) + 0.5) / (sum(others[1:]) + 0.5))
    assert exp.mean == pytest.approx(exp.share * exp.drift.expected)
    assert exp.mean == pytest.approx(10.0, rel=0.03)  # the next step up (100 / 10), not the flat mean of 8.3
    alone = expected_week(baseline, [0.0] * (LEAD_BASELINE_WEEKS + 1))
    assert alone.drift is None and alone.mean == pytest.approx((sum(baseline) + 0.5) / LEAD_BASELINE_WEEKS)


# ---------------------------------------------------------------- the check on hand-made accounts

CHANNELS = {"paid_search": 12.0, "organic_search": 150.0, "referrals": 40.0, "direct_traffic": 60.0}


def _leads(seed: int, weekly_factor: float, collapse: str | None = None) -> list[dict]:
    """Poisson daily leads per channel over 40 weeks, every channel × ``weekly_factor`` a week
    (going forward), ``collapse`` keeping 5% of its leads in the last 7 days."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(280):
        day = AS_OF - timedelta(days=d)
        level = weekly_factor ** (-d / 7)
        for ch, weekly in CHANNELS.items():
            n = int(rng.poisson(weekly / 7 * level))
            if ch == collapse and d < 7:
                n = sum(random.Random(seed * 1000 + d).random() < 0.05 for _ in range(n))
            if n:
                rows.append({"lead_date": day, "source": "hubspot", "channel": ch, "new_leads": n})
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_descent_shared_by_every_channel_is_quiet(seed):
    # -3.5% a week for 40 weeks (a yearly wave's descent): a flat baseline would read it as a drop
    outcome = run_check(connection([], _leads(seed, 0.965)), AS_OF, "lead_volume_anomaly")
    assert outcome.passed, outcome.description
    seg = outcome.metadata["segments"]["organic_search"]
    assert -0.05 < seg["account_trend_per_week"] < -0.015  # -3.5% a week, shrunk a little
    assert seg["baseline"] < 0.9 * seg["baseline_weekly_mean"]  # the expectation followed the descent


def test_a_collapse_during_a_descent_is_named():
    outcome = run_check(connection([], _leads(4, 0.965, collapse="paid_search")), AS_OF, "lead_volume_anomaly")
    assert outcome.metadata["flagged_segments"] == ["paid_search"]
    seg = outcome.metadata["segments"]["paid_search"]
    assert seg["value"] <= 2 and seg["p_adjusted"] <= 0.01 and seg["direction"] == "drop"
    assert {"baseline", "p", "n", "window_start", "window_end", "segment", "share_of_other_channels"} <= set(seg)
