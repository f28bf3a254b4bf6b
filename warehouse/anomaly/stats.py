"""The statistics behind the funnel anomaly checks: pure functions, no I/O, no clock.

Conventions:
- a function that cannot compute a meaningful statistic (empty input, zero denominator, zero
  variance) returns ``None``; a ``None`` statistic never flags anything;
- "z" is signed: negative for a drop, positive for a spike;
- a bucket is flagged only when it passes *two gates* (`passes_two_gates`): a statistical
  threshold (|z|) and a minimum relative change, on a minimum sample size. With ~20 checks times
  their segments evaluated every day, a per-test false-positive rate of ~1e-5 (|z| > 4) is what
  keeps a clean pipeline quiet; the relative-change gate keeps huge samples from flagging
  differences nobody would act on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

MAD_TO_SD = 1.4826
"""1 / Φ⁻¹(0.75): scales a median absolute deviation to a standard deviation under normality."""

MEDIAN_SE_FACTOR = math.sqrt(math.pi / 2)
"""The standard error of a sample median is ≈ 1.2533 σ / √n under normality."""


# ---------------------------------------------------------------- descriptive


def _clean(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and not math.isnan(float(v))]


def quantile(values: Iterable[float | None], q: float) -> float | None:
    """The q-quantile with linear interpolation (SQL ``percentile_cont``); None when empty."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be within [0, 1]; got {q}")
    xs = sorted(_clean(values))
    if not xs:
        return None
    pos = q * (len(xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def median(values: Iterable[float | None]) -> float | None:
    return quantile(values, 0.5)


def mad(values: Iterable[float | None]) -> float | None:
    """Median absolute deviation from the median (unscaled); None when empty."""
    xs = _clean(values)
    centre = median(xs)
    if centre is None:
        return None
    return median(abs(x - centre) for x in xs)


def relative_change(value: float | None, baseline: float | None) -> float | None:
    """value / baseline − 1 (−0.9 = a 90% drop); +inf for growth from a zero baseline."""
    if value is None or baseline is None:
        return None
    if baseline == 0:
        return 0.0 if value == 0 else math.inf
    return value / baseline - 1.0


# ---------------------------------------------------------------- robust z (durations, amounts)


def robust_z(value: float, baseline: Sequence[float], *, log: bool = False) -> float | None:
    """(value − median₀) / (1.4826 · MAD₀) of one observation against a baseline sample.

    ``log=True`` works on natural logs (durations and amounts are right-skewed; non-positive
    values are dropped from the baseline and give None as the value). None when the baseline
    is empty or its MAD is 0 (no spread to measure against).
    """
    if log:
        if value is None or value <= 0:
            return None
        value = math.log(value)
        baseline = [math.log(x) for x in _clean(baseline) if x > 0]
    centre, spread = median(baseline), mad(baseline)
    if centre is None or not spread:
        return None
    return (value - centre) / (MAD_TO_SD * spread)


def median_shift_z(
    window_median: float,
    window_n: int,
    baseline_median: float,
    baseline_sd: float,
    baseline_n: int,
    *,
    between_bucket_sd: float = 0.0,
) -> float | None:
    """z of the shift of a window's median against a baseline median.

    ``baseline_sd`` is the per-observation robust spread (1.4826 · MAD) of the baseline, on the
    same scale as the medians (logs for durations). The standard error of a median of n values
    is ≈ 1.2533 · sd / √n, so

        z = (m_w − m_0) / √( (1.2533·sd)² (1/n_w + 1/n_0) + τ² )

    where τ (``between_bucket_sd``) is the bucket-to-bucket spread of the medians beyond
    sampling noise (drift, seasonality); pass 0 when unknown. None on empty or zero-spread input.
    """
    if window_n <= 0 or baseline_n <= 0 or baseline_sd is None or baseline_sd <= 0:
        return None
    var = (MEDIAN_SE_FACTOR * baseline_sd) ** 2 * (1.0 / window_n + 1.0 / baseline_n) + between_bucket_sd**2
    return (window_median - baseline_median) / math.sqrt(var)


def excess_between_sd(bucket_medians: Sequence[float], per_bucket_sampling_sd: float) -> float:
    """τ: the robust spread of bucket medians (1.4826 · MAD) in excess of their sampling noise
    (√(spread² − sampling²), 0 when sampling noise explains it all)."""
    spread = mad(bucket_medians)
    if spread is None:
        return 0.0
    observed = MAD_TO_SD * spread
    return math.sqrt(max(0.0, observed**2 - per_bucket_sampling_sd**2))


# ---------------------------------------------------------------- proportions (rates)


def two_proportion_z(x: float, n: float, x0: float, n0: float, *, dispersion: float = 1.0) -> float | None:
    """Two-proportion z-test of a window proportion x/n against a baseline x0/n0.

    Pooled under H0: p̂ = (x + x0)/(n + n0); z = (x/n − x0/n0) / √(φ · p̂(1 − p̂)(1/n + 1/n0)),
    φ = ``dispersion`` (≥ 1, see `binomial_dispersion`). Signed: a drop is negative; use the
    sign for one-sided tests. None when n or n0 is 0, or when p̂ is 0 or 1 (no variance).
    """
    if n <= 0 or n0 <= 0:
        return None
    pooled = (x + x0) / (n + n0)
    var = max(dispersion, 1.0) * pooled * (1.0 - pooled) * (1.0 / n + 1.0 / n0)
    if var <= 0:
        return None
    return (x / n - x0 / n0) / math.sqrt(var)


def binomial_dispersion(successes: Sequence[float], totals: Sequence[float]) -> float:
    """Quasi-binomial dispersion φ of baseline buckets around their pooled proportion:
    Pearson χ² / (k − 1), floored at 1 (never claims less noise than the binomial).
    1 with fewer than 2 usable buckets."""
    pairs = [(x, n) for x, n in zip(successes, totals, strict=True) if n and n > 0]
    if len(pairs) < 2:
        return 1.0
    p = sum(x for x, _ in pairs) / sum(n for _, n in pairs)
    if p <= 0 or p >= 1:
        return 1.0
    chi2 = sum((x - n * p) ** 2 / (n * p * (1 - p)) for x, n in pairs)
    return max(1.0, chi2 / (len(pairs) - 1))


# ---------------------------------------------------------------- counts (volumes)


def poisson_dispersion(groups: Sequence[Sequence[float]]) -> float:
    """Quasi-Poisson dispersion φ from baseline counts grouped by like bucket (e.g. weekday):
    Σ (x − m_g)² / m_g over the groups' counts, divided by (N − number of groups), where m_g is
    the group mean; groups with a zero mean add nothing. Floored at 1: a count is never treated
    as less noisy than Poisson, so a zero-variance baseline still has a variance."""
    chi2, n_obs, n_groups = 0.0, 0, 0
    for group in groups:
        xs = _clean(group)
        if not xs:
            continue
        m = sum(xs) / len(xs)
        n_groups += 1
        n_obs += len(xs)
        if m > 0:
            chi2 += sum((x - m) ** 2 for x in xs) / m
    df = n_obs - n_groups
    if df <= 0:
        return 1.0
    return max(1.0, chi2 / df)


def count_z(
    observed: float, expected: float, *, dispersion: float = 1.0, baseline_buckets: int | None = None
) -> float | None:
    """Quasi-Poisson z of an observed count against its expectation:

        z = (O − E) / √( φ · max(E, 1) · (1 + 1/K) )

    φ = ``dispersion`` (from `poisson_dispersion`, ≥ 1); K = ``baseline_buckets``, the number of
    baseline values each expected bucket is the mean of (adds the uncertainty of the baseline
    mean; omit for a known E). The variance floor of 1 keeps a zero baseline from making any
    count infinitely surprising. None when the expectation is negative or missing.
    """
    if expected is None or expected < 0:
        return None
    inflation = 1.0 + (1.0 / baseline_buckets if baseline_buckets else 0.0)
    var = max(dispersion, 1.0) * max(expected, 1.0) * inflation
    return (observed - expected) / math.sqrt(var)


# ---------------------------------------------------------------- decisions


def passes_two_gates(
    z: float | None,
    rel_change: float | None,
    n: float | None,
    *,
    direction: str,
    z_threshold: float = 4.0,
    min_relative_change: float = 0.3,
    min_n: float = 30,
) -> bool:
    """True when a bucket is anomalous: |z| beyond the threshold AND |relative change| at least
    the minimum, both in the tested ``direction`` ('drop', 'spike' or 'both'), AND n ≥ min_n.
    Any missing input means "not flagged"."""
    if z is None or rel_change is None or n is None or n < min_n:
        return False
    if direction not in {"drop", "spike", "both"}:
        raise ValueError(f"direction must be 'drop', 'spike' or 'both'; got {direction!r}")
    drop = z <= -z_threshold and rel_change <= -min_relative_change
    spike = z >= z_threshold and rel_change >= min_relative_change
    return {"drop": drop, "spike": spike, "both": drop or spike}[direction]


# ---------------------------------------------------------------- baselines


def exclude_flagged(buckets: Iterable[K], flagged: Collection[K]) -> list[K]:
    """The buckets (order kept) that are not in ``flagged``."""
    return [b for b in buckets if b not in flagged]


def trailing_baseline(earlier: Iterable[K], flagged: Collection[K], size: int) -> list[K]:
    """Up to ``size`` buckets from ``earlier`` (nearest first) that were not flagged."""
    out: list[K] = []
    for b in earlier:
        if len(out) >= size:
            break
        if b not in flagged:
            out.append(b)
    return out


def screen_history(buckets: Sequence[K], is_anomalous: Callable[[K, frozenset[K]], bool]) -> frozenset[K]:
    """Flag past buckets oldest first, each tested against a baseline that already excludes the
    buckets flagged before it: ``is_anomalous(bucket, flagged_so_far)``. An incident therefore
    never inflates the variance nor shifts the mean of the baselines that follow it."""
    flagged: set[K] = set()
    for b in buckets:
        if is_anomalous(b, frozenset(flagged)):
            flagged.add(b)
    return frozenset(flagged)
