"""The anomaly statistics against values computed by hand (the arithmetic is in each comment)."""

from __future__ import annotations

import math

import pytest

from warehouse.anomaly import stats


def test_quantile_interpolates_like_percentile_cont():
    # position 0.9 * (10 - 1) = 8.1 -> 9 + 0.1 * (10 - 9)
    assert stats.quantile(range(1, 11), 0.9) == pytest.approx(9.1)
    assert stats.median([3, 1, 2]) == 2
    assert stats.median([1, 2, 3, 4]) == 2.5  # the mean of the two middle values
    assert stats.median([]) is None
    assert stats.quantile([None, 5.0], 0.5) == 5.0
    with pytest.raises(ValueError):
        stats.quantile([1], 1.5)


def test_mad_and_robust_z_ignore_the_outlier_in_the_baseline():
    baseline = [1, 2, 3, 4, 100]
    # median 3; |deviations| 2, 1, 0, 1, 97 -> median 1
    assert stats.mad(baseline) == 1
    # (10 - 3) / (1.4826 * 1)
    assert stats.robust_z(10, baseline) == pytest.approx(4.72144, abs=1e-5)
    assert stats.robust_z(-4, baseline) == pytest.approx(-4.72144, abs=1e-5)


def test_robust_z_on_logs_for_durations():
    baseline = [math.exp(k) for k in range(5)]  # logs 0..4: median 2, MAD 1
    assert stats.robust_z(math.exp(3), baseline, log=True) == pytest.approx(1 / 1.4826)
    assert stats.robust_z(0.0, baseline, log=True) is None  # no log of a zero duration


def test_robust_z_needs_spread():
    assert stats.robust_z(5, [2, 2, 2]) is None
    assert stats.robust_z(5, []) is None


def test_two_proportion_z_pooled():
    # p = .3, p0 = .5, pooled = 530/1100 = .481818; var = .481818 * .518182 * (1/100 + 1/1000)
    # = .00274636; z = -.2 / .0524057
    assert stats.two_proportion_z(30, 100, 500, 1000) == pytest.approx(-3.81638, abs=1e-4)
    # a dispersion of 4 halves it
    assert stats.two_proportion_z(30, 100, 500, 1000, dispersion=4) == pytest.approx(-1.90819, abs=1e-4)
    # a dispersion below 1 is never believed
    assert stats.two_proportion_z(30, 100, 500, 1000, dispersion=0.5) == pytest.approx(-3.81638, abs=1e-4)


def test_two_proportion_z_guards():
    assert stats.two_proportion_z(0, 0, 5, 10) is None  # empty window
    assert stats.two_proportion_z(3, 10, 0, 0) is None  # empty baseline
    assert stats.two_proportion_z(0, 10, 0, 100) is None  # no variance at p = 0
    assert stats.two_proportion_z(10, 10, 100, 100) is None  # nor at p = 1


def test_binomial_dispersion():
    # p = 40/200 = .2; chi2 = (10-20)^2/16 + (30-20)^2/16 = 12.5 over k - 1 = 1
    assert stats.binomial_dispersion([10, 30], [100, 100]) == pytest.approx(12.5)
    assert stats.binomial_dispersion([20, 20], [100, 100]) == 1.0  # floored at the binomial
    assert stats.binomial_dispersion([20], [100]) == 1.0


def test_poisson_dispersion():
    # group (10, 20): mean 15, chi2 (25 + 25)/15 = 3.3333; group (5, 5): 0; df = 4 - 2
    assert stats.poisson_dispersion([[10, 20], [5, 5]]) == pytest.approx(1.66667, abs=1e-4)
    assert stats.poisson_dispersion([[5, 5], [3, 3]]) == 1.0
    assert stats.poisson_dispersion([[0, 0]]) == 1.0  # zero counts: never a zero variance


def test_count_z_quasi_poisson():
    # var = 2 * 100 * (1 + 1/8) = 225 -> z = 50 / 15
    assert stats.count_z(150, 100, dispersion=2, baseline_buckets=8) == pytest.approx(3.33333, abs=1e-4)
    assert stats.count_z(100, 100) == 0
    # a zero baseline still has a variance of 1 (not an infinite z)
    assert stats.count_z(3, 0) == pytest.approx(3.0)
    assert stats.count_z(5, -1) is None


def test_median_shift_z():
    # se^2 = 1.2533141^2 * (1/100 + 1/400) = 1.5707963 * .0125 = .01963495; z = .5 / .1401248
    assert stats.median_shift_z(2.0, 100, 1.5, 1.0, 400) == pytest.approx(3.56825, abs=1e-4)
    # bucket-to-bucket drift of sd .3 adds .09 to the variance: z = .5 / sqrt(.10963495)
    assert stats.median_shift_z(2.0, 100, 1.5, 1.0, 400, between_bucket_sd=0.3) == pytest.approx(1.51007, abs=1e-4)
    assert stats.median_shift_z(2.0, 100, 1.5, 0.0, 400) is None


def test_excess_between_sd():
    # MAD of (1, 2, 3) = 1 -> 1.4826; sqrt(1.4826^2 - .5^2) = sqrt(1.94810)
    assert stats.excess_between_sd([1, 2, 3], 0.5) == pytest.approx(1.39574, abs=1e-4)
    assert stats.excess_between_sd([1, 2, 3], 5.0) == 0.0


def test_relative_change():
    assert stats.relative_change(50, 100) == -0.5
    assert stats.relative_change(1, 0) == math.inf
    assert stats.relative_change(0, 0) == 0.0
    assert stats.relative_change(None, 1) is None


@pytest.mark.parametrize(
    ("z", "rel", "n", "direction", "expected"),
    [
        (-5.0, -0.5, 100, "drop", True),
        (-5.0, -0.1, 100, "drop", False),  # significant but small: a huge sample's trivia
        (-3.0, -0.5, 100, "drop", False),  # big but noisy
        (-5.0, -0.5, 10, "drop", False),  # too few units
        (-5.0, -0.5, 100, "spike", False),  # wrong direction
        (5.0, 0.5, 100, "spike", True),
        (5.0, 0.5, 100, "both", True),
        (-5.0, -0.5, 100, "both", True),
        (None, -0.5, 100, "drop", False),
        (-5.0, None, 100, "drop", False),
    ],
)
def test_two_gates(z, rel, n, direction, expected):
    assert (
        stats.passes_two_gates(z, rel, n, direction=direction, z_threshold=4, min_relative_change=0.3, min_n=30)
        is expected
    )


def test_two_gates_rejects_unknown_direction():
    with pytest.raises(ValueError):
        stats.passes_two_gates(5, 0.5, 100, direction="up")


def test_baseline_helpers():
    assert stats.exclude_flagged([1, 2, 3, 4], {2, 4}) == [1, 3]
    assert stats.trailing_baseline([5, 4, 3, 2, 1], {4}, 3) == [5, 3, 2]


def test_screen_history_keeps_an_incident_out_of_later_baselines():
    values = {0: 10, 1: 10, 2: 100, 3: 12, 4: 10}

    def is_anomalous(bucket, flagged):
        earlier = [values[b] for b in range(bucket) if b not in flagged]
        return len(earlier) >= 2 and values[bucket] > 2 * sum(earlier) / len(earlier)

    # bucket 2 (100 vs mean 10) is flagged; bucket 3 is then compared with (10, 10), not (10, 10, 100)
    assert stats.screen_history(sorted(values), is_anomalous) == frozenset({2})
    # without the exclusion a later real jump would hide behind the incident: 25 vs mean 40 ...
    values[3] = 25
    assert stats.screen_history(sorted(values), is_anomalous) == frozenset({2, 3})
