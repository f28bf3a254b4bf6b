"""warehouse/anomaly/exact.py cross-checked against SciPy (values computed by SciPy here)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import special
from scipy import stats as sps

from warehouse.anomaly import exact

RNG = random.Random(8)


@pytest.mark.parametrize("a", [0.3, 1.0, 2.5, 12.0, 150.0])
@pytest.mark.parametrize("x", [0.01, 0.5, 2.0, 11.0, 160.0])
def test_incomplete_gamma(a, x):
    assert exact.gammainc_lower(a, x) == pytest.approx(special.gammainc(a, x), rel=1e-9, abs=1e-14)


@pytest.mark.parametrize("a,b", [(0.5, 0.5), (1, 3), (7.5, 2.2), (40, 300), (1e4, 3)])
@pytest.mark.parametrize("x", [0.001, 0.2, 0.5, 0.9, 0.999])
def test_incomplete_beta(a, b, x):
    assert exact.betainc(a, b, x) == pytest.approx(special.betainc(a, b, x), rel=1e-8, abs=1e-14)


@pytest.mark.parametrize("mu", [0.3, 2.0, 12.0, 80.0, 2500.0])
def test_poisson_tails(mu):
    for k in {0, 1, int(mu / 10), int(mu / 2), int(mu), int(mu * 2) + 3}:
        assert exact.poisson_cdf(k, mu) == pytest.approx(sps.poisson.cdf(k, mu), rel=1e-8, abs=1e-300)
        assert exact.poisson_sf(k, mu) == pytest.approx(sps.poisson.sf(k - 1, mu), rel=1e-8, abs=1e-300)


def test_poisson_small_tail_of_a_collapsed_channel():
    # 12 leads a week expected, 1 arrived: a ~1e-4 event (the normal z would say -3.2)
    assert exact.poisson_cdf(1, 12.0) == pytest.approx(sps.poisson.cdf(1, 12.0), rel=1e-10)
    assert exact.poisson_cdf(1, 12.0) < 1e-4


@pytest.mark.parametrize("mu,size", [(5.0, 2.0), (12.0, 30.0), (100.0, 8.0), (0.7, 0.5)])
def test_negative_binomial_tails(mu, size):
    p = size / (size + mu)  # scipy's parameterisation: n = size, p
    for k in (0, 1, 3, int(mu), int(3 * mu) + 1):
        assert exact.negbin_cdf(k, mu, size) == pytest.approx(sps.nbinom.cdf(k, size, p), rel=1e-8, abs=1e-300)
        assert exact.negbin_sf(k, mu, size) == pytest.approx(sps.nbinom.sf(k - 1, size, p), rel=1e-8, abs=1e-300)


def test_negbin_size_by_moments_and_poisson_limit():
    gen = np.random.default_rng(3)
    xs = gen.negative_binomial(5, 5 / (5 + 20.0), size=200_000)
    assert exact.negbin_size(float(xs.mean()), float(xs.var())) == pytest.approx(5.0, rel=0.05)
    assert math.isinf(exact.negbin_size(10.0, 9.0))
    assert exact.negbin_cdf(4, 7.0, math.inf) == pytest.approx(sps.poisson.cdf(4, 7.0), rel=1e-10)


@pytest.mark.parametrize("n,p", [(1, 0.3), (10, 0.5), (57, 0.12), (400, 0.43), (3000, 0.01)])
def test_binomial_tails(n, p):
    for k in {0, 1, int(n * p / 2), int(n * p), min(n, int(n * p * 2) + 1), n}:
        assert exact.binom_cdf(k, n, p) == pytest.approx(sps.binom.cdf(k, n, p), rel=1e-8, abs=1e-300)
        assert exact.binom_sf(k, n, p) == pytest.approx(sps.binom.sf(k - 1, n, p), rel=1e-8, abs=1e-300)


def test_binomial_with_real_counts_interpolates_between_integers():
    lo, hi = exact.binom_cdf(10, 40.5, 0.4), exact.binom_cdf(11, 40.5, 0.4)
    assert lo < exact.binom_cdf(10.5, 40.5, 0.4) < hi


@pytest.mark.parametrize("n,a,b", [(5, 1.0, 1.0), (40, 4.0, 6.0), (200, 30.0, 70.0), (1000, 0.8, 5.0)])
def test_beta_binomial_tails(n, a, b):
    for k in (0, 1, n // 4, n // 2, n - 1, n):
        assert exact.betabinom_cdf(k, n, a, b) == pytest.approx(sps.betabinom.cdf(k, n, a, b), rel=1e-8, abs=1e-14)
        assert exact.betabinom_sf(k, n, a, b) == pytest.approx(sps.betabinom.sf(k - 1, n, a, b), rel=1e-8, abs=1e-12)


def test_beta_binomial_params_give_the_intra_class_correlation():
    a, b = exact.betabinom_params(0.3, 0.05)
    n = 50
    var = sps.betabinom.var(n, a, b)
    assert var == pytest.approx(n * 0.3 * 0.7 * (1 + (n - 1) * 0.05), rel=1e-9)


def test_rate_ratio_is_the_conditional_binomial_test():
    # 20 events over 35 deal-days... vs 300 over 400: scipy's binomtest on the conditional count
    p = exact.rate_ratio_p(20, 350.0, 300, 1800.0, direction="drop")
    ref = sps.binomtest(20, 320, 350.0 / 2150.0, alternative="less").pvalue
    assert p == pytest.approx(ref, rel=1e-8)
    up = exact.rate_ratio_p(90, 350.0, 300, 1800.0, direction="spike")
    assert up == pytest.approx(sps.binomtest(90, 390, 350.0 / 2150.0, alternative="greater").pvalue, rel=1e-8)
    # overdispersion only makes it less surprising
    assert exact.rate_ratio_p(20, 350.0, 300, 1800.0, direction="drop", dispersion=2.0) > p
    assert exact.rate_ratio_p(1, 0.0, 3, 10.0, direction="drop") == 1.0


def test_kaplan_meier_quantile_matches_a_hand_product_limit():
    # independent check: product-limit estimate computed here step by step with numpy
    gen = np.random.default_rng(11)
    t = gen.exponential(10.0, 400)
    c = gen.uniform(0, 30, 400)
    dur, obs = np.minimum(t, c), t <= c
    order = np.argsort(dur)
    s, at_risk, expected = 1.0, len(dur), None
    for i in order:
        if obs[i]:
            s *= 1 - 1 / at_risk
            if expected is None and s <= 0.5:
                expected = dur[i]
        at_risk -= 1
    got = exact.km_quantile(list(dur), list(map(bool, obs)), 0.5)
    assert got == pytest.approx(expected)
    assert got == pytest.approx(10 * math.log(2), rel=0.2)  # the exponential's true median
    assert exact.km_quantile([5.0, 6.0], [False, False], 0.5) is None


def test_holm_and_bh_match_scipy_and_statsmodels_definitions():
    ps = [RNG.random() ** 3 for _ in range(17)]
    bh = sps.false_discovery_control(ps, method="bh")
    assert exact.benjamini_hochberg(ps) == pytest.approx(list(bh), rel=1e-12)
    # Holm by its definition: max over ranks of min(1, (m - j) p_(j))
    order = np.argsort(ps)
    m, running, ref = len(ps), 0.0, [0.0] * len(ps)
    for j, i in enumerate(order):
        running = max(running, min(1.0, (m - j) * ps[i]))
        ref[i] = running
    assert exact.holm(ps) == pytest.approx(ref, rel=1e-12)
