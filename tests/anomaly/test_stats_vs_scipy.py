"""warehouse/anomaly/stats.py cross-checked against SciPy's implementations of the same
statistics (values computed by SciPy here, never copied from our code)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats as sps

from warehouse.anomaly import stats

RNG = random.Random(20261031)
SAMPLES = [[RNG.lognormvariate(2.0, 0.7) for _ in range(n)] for n in (1, 2, 5, 12, 101)]


@pytest.mark.parametrize("xs", SAMPLES)
@pytest.mark.parametrize("q", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_quantile_is_linear_interpolation_like_percentile_cont(xs, q):
    assert stats.quantile(xs, q) == pytest.approx(float(np.quantile(xs, q, method="linear")), rel=1e-12)


@pytest.mark.parametrize("xs", SAMPLES)
def test_median_and_mad(xs):
    assert stats.median(xs) == pytest.approx(float(np.median(xs)), rel=1e-12)
    assert stats.mad(xs) == pytest.approx(float(sps.median_abs_deviation(xs, scale=1.0)), rel=1e-12, abs=1e-12)


def test_mad_to_sd_is_the_normal_consistency_constant():
    assert pytest.approx(1.0 / sps.norm.ppf(0.75), rel=1e-4) == stats.MAD_TO_SD
    # and scipy's "normal" scale agrees: MAD * 1.4826 estimates sigma
    xs = SAMPLES[-1]
    assert stats.MAD_TO_SD * stats.mad(xs) == pytest.approx(sps.median_abs_deviation(xs, scale="normal"), rel=1e-4)


def test_median_standard_error_factor_matches_simulation():
    # SE of the median of n normal draws ~ sqrt(pi/2) * sigma / sqrt(n): simulate it
    gen = np.random.default_rng(7)
    n = 201
    medians = np.median(gen.standard_normal((4000, n)), axis=1)
    assert pytest.approx(float(medians.std(ddof=1) * math.sqrt(n)), rel=0.05) == stats.MEDIAN_SE_FACTOR


@pytest.mark.parametrize(("x", "n", "x0", "n0"), [(12, 40, 200, 400), (30, 100, 25, 100), (1, 50, 40, 60)])
def test_two_proportion_z_squared_is_the_uncorrected_chi_square(x, n, x0, n0):
    table = np.array([[x, n - x], [x0, n0 - x0]])
    chi2, p, _dof, _expected = sps.chi2_contingency(table, correction=False)
    z = stats.two_proportion_z(x, n, x0, n0)
    assert z is not None
    assert z**2 == pytest.approx(chi2, rel=1e-9)
    assert 2 * sps.norm.sf(abs(z)) == pytest.approx(p, rel=1e-9)
    assert math.copysign(1, z) == math.copysign(1, x / n - x0 / n0)


def test_binomial_dispersion_is_pearson_chi_square_over_dof():
    successes, totals = [30, 55, 41, 62, 20], [100, 120, 90, 130, 80]
    observed = np.array([successes, [t - s for s, t in zip(successes, totals, strict=True)]])
    chi2, _p, dof, _e = sps.chi2_contingency(observed, correction=False)
    assert stats.binomial_dispersion(successes, totals) == pytest.approx(max(1.0, chi2 / dof), rel=1e-9)


def test_poisson_dispersion_is_pearson_chi_square_over_dof():
    groups = [[12, 18, 9, 15], [40, 52, 47, 35, 44], [3, 0, 5]]
    chi2 = sum(sps.chisquare(g, f_exp=[np.mean(g)] * len(g)).statistic for g in groups)
    dof = sum(len(g) for g in groups) - len(groups)
    assert stats.poisson_dispersion(groups) == pytest.approx(max(1.0, chi2 / dof), rel=1e-9)


def test_count_z_of_a_known_poisson_mean_matches_the_normal_approximation():
    # with a known expectation (no baseline inflation), z is the Poisson standardised count
    observed, expected = 130, 100
    z = stats.count_z(observed, expected)
    assert z == pytest.approx((observed - expected) / math.sqrt(sps.poisson(expected).var()), rel=1e-12)


def test_robust_z_uses_scipy_normal_scaled_mad():
    baseline = SAMPLES[-1]
    value = 40.0
    want = (value - np.median(baseline)) / sps.median_abs_deviation(baseline, scale="normal")
    assert stats.robust_z(value, baseline) == pytest.approx(float(want), rel=1e-4)
