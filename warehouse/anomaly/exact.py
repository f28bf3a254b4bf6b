"""Exact small-sample tail probabilities for the funnel checks: pure functions (stdlib; numpy for KM).

Why: at 10-20 leads a day a 90% collapse of a channel is a p < 1e-6 event whose normal-approx
z stays under 5; counts and rates this small need their exact distributions (docs/checks.md).

- `gammainc_lower` / `betainc`: the regularized incomplete gamma and beta functions (series and
  continued fractions, Numerical Recipes §6.2/§6.4), the building blocks of every tail below;
- `poisson_cdf` / `poisson_sf`: P(X ≤ k) / P(X ≥ k), X ~ Poisson(μ);
- `negbin_cdf` / `negbin_sf`: the same for a negative binomial of mean μ and size r (variance
  μ + μ²/r; r = ∞ is the Poisson), `negbin_size` estimates r from a baseline's mean and variance;
- `binom_cdf` / `binom_sf`: binomial tails, also for non-integer (quasi-likelihood scaled)
  counts through the incomplete beta;
- `betabinom_cdf` / `betabinom_sf`: beta-binomial tails (overdispersed rates);
- `rate_ratio_p`: the exact conditional test of two Poisson rates over exposures;
- `km_quantile`: the Kaplan–Meier quantile of right-censored durations;
- `holm` / `benjamini_hochberg`: adjusted p-values that control the false alarms across segments.

Every p-value is one-sided; a function that cannot compute one (no data) returns 1.0 (never
flags) unless documented otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

_EPS = 1e-15
_TINY = 1e-300
_MAX_ITER = 10_000


# ---------------------------------------------------------------- special functions


def gammainc_lower(a: float, x: float) -> float:
    """P(a, x) = γ(a, x) / Γ(a), the regularized lower incomplete gamma function (a > 0)."""
    return _gammainc(a, x)[0]


def gammainc_upper(a: float, x: float) -> float:
    """Q(a, x) = 1 − P(a, x), computed directly (accurate in the far tail)."""
    return _gammainc(a, x)[1]


def _gammainc(a: float, x: float) -> tuple[float, float]:
    if a <= 0:
        raise ValueError(f"a must be > 0; got {a}")
    if x <= 0:
        return 0.0, 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:  # series
        term = total = 1.0 / a
        ap = a
        for _ in range(_MAX_ITER):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        lower = min(1.0, total * math.exp(log_front))
        return lower, max(0.0, 1.0 - lower)
    upper = min(1.0, _gamma_cf(a, x, log_front))
    return max(0.0, 1.0 - upper), upper


def _gamma_cf(a: float, x: float, log_front: float) -> float:
    """Q(a, x) by Lentz's continued fraction (x ≥ a + 1)."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(log_front) * h


def betainc(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function (a, b > 0, 0 ≤ x ≤ 1)."""
    if a <= 0 or b <= 0:
        raise ValueError(f"a and b must be > 0; got {a}, {b}")
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return min(1.0, math.exp(log_front) * _beta_cf(a, b, x) / a)
    return max(0.0, 1.0 - math.exp(log_front) * _beta_cf(b, a, 1.0 - x) / b)


def _beta_cf(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (_TINY if abs(d) < _TINY else d)
    h = d
    for m in range(1, _MAX_ITER):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (_TINY if abs(d) < _TINY else d)
            c = 1.0 + aa / c
            c = _TINY if abs(c) < _TINY else c
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return h


# ---------------------------------------------------------------- counts


def poisson_cdf(k: float, mu: float) -> float:
    """P(X ≤ k), X ~ Poisson(μ); k is floored (k < 0 → 0)."""
    k = math.floor(k)
    if k < 0:
        return 0.0
    if mu <= 0:
        return 1.0
    return gammainc_upper(k + 1.0, mu)


def poisson_sf(k: float, mu: float) -> float:
    """P(X ≥ k), X ~ Poisson(μ); k is ceiled (k ≤ 0 → 1)."""
    k = math.ceil(k)
    if k <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    return gammainc_lower(float(k), mu)


def negbin_size(mean: float, variance: float) -> float:
    """The negative-binomial size r with this mean and variance (method of moments): μ²/(v − μ);
    ``math.inf`` (Poisson) when the variance does not exceed the mean."""
    if mean <= 0 or variance <= mean:
        return math.inf
    return mean * mean / (variance - mean)


def negbin_cdf(k: float, mu: float, size: float) -> float:
    """P(X ≤ k) for a negative binomial of mean μ and size r (``math.inf`` → Poisson)."""
    if math.isinf(size):
        return poisson_cdf(k, mu)
    k = math.floor(k)
    if k < 0:
        return 0.0
    if mu <= 0:
        return 1.0
    return betainc(size, k + 1.0, size / (size + mu))


def negbin_sf(k: float, mu: float, size: float) -> float:
    """P(X ≥ k) for a negative binomial of mean μ and size r."""
    if math.isinf(size):
        return poisson_sf(k, mu)
    k = math.ceil(k)
    if k <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    return betainc(float(k), size, mu / (size + mu))


# ---------------------------------------------------------------- rates


def binom_cdf(k: float, n: float, p: float) -> float:
    """P(X ≤ k), X ~ Binomial(n, p); real k and n allowed (quasi-likelihood scaled counts):
    I_{1−p}(n − k, k + 1) with k floored for integer n."""
    if n <= 0:
        return 1.0
    if float(n).is_integer():
        k = math.floor(k)
    if k < 0:
        return 0.0
    if k >= n or p <= 0:
        return 1.0
    if p >= 1:
        return 0.0
    return betainc(n - k, k + 1.0, 1.0 - p)


def binom_sf(k: float, n: float, p: float) -> float:
    """P(X ≥ k), X ~ Binomial(n, p) (real k and n as in `binom_cdf`)."""
    if float(n).is_integer() and float(k) != math.ceil(k):
        k = math.ceil(k)
    if k <= 0:
        return 1.0
    if k > n or p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    return betainc(k, n - k + 1.0, p)


def _betabinom_logpmf(k: int, n: int, a: float, b: float) -> float:
    return (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + math.lgamma(k + a)
        + math.lgamma(n - k + b)
        - math.lgamma(n + a + b)
        + math.lgamma(a + b)
        - math.lgamma(a)
        - math.lgamma(b)
    )


def betabinom_cdf(k: int, n: int, a: float, b: float) -> float:
    """P(X ≤ k), X ~ BetaBinomial(n, a, b) (direct summation of the smaller tail)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    mean = n * a / (a + b)
    if k <= mean:
        return min(1.0, sum(math.exp(_betabinom_logpmf(j, n, a, b)) for j in range(k + 1)))
    return max(0.0, 1.0 - betabinom_sf(k + 1, n, a, b))


def betabinom_sf(k: int, n: int, a: float, b: float) -> float:
    """P(X ≥ k), X ~ BetaBinomial(n, a, b)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    mean = n * a / (a + b)
    if k > mean:
        return min(1.0, sum(math.exp(_betabinom_logpmf(j, n, a, b)) for j in range(k, n + 1)))
    return max(0.0, 1.0 - betabinom_cdf(k - 1, n, a, b))


def betabinom_params(p: float, rho: float) -> tuple[float, float]:
    """(a, b) of a beta-binomial with mean share p and intra-class correlation ρ (0 < ρ < 1):
    a + b = 1/ρ − 1. Variance n p (1 − p) (1 + (n − 1) ρ)."""
    s = 1.0 / rho - 1.0
    return p * s, (1.0 - p) * s


def rate_ratio_p(
    x: float, exposure: float, x0: float, exposure0: float, *, direction: str, dispersion: float = 1.0
) -> float:
    """One-sided p of the window's event rate x/T against the baseline's x0/T0, conditional on
    the total: x | x + x0 ~ Binomial(x + x0, T/(T + T0)) under equal rates. ``dispersion`` φ ≥ 1
    (from the baseline's buckets) scales both counts by 1/φ (quasi-Poisson). 'drop' tests a lower
    window rate, 'spike' a higher one. 1.0 without exposure."""
    if exposure <= 0 or exposure0 <= 0:
        return 1.0
    phi = max(1.0, dispersion)
    n = (x + x0) / phi
    share = exposure / (exposure + exposure0)
    if direction == "drop":
        return binom_cdf(x / phi, n, share)
    if direction == "spike":
        return binom_sf(x / phi, n, share)
    raise ValueError(f"direction must be 'drop' or 'spike'; got {direction!r}")


def poisson_dispersion(counts: Sequence[float], expected: Sequence[float]) -> float:
    """Pearson χ²/(k − 1) of baseline bucket counts against their expectations, floored at 1."""
    pairs = [(c, e) for c, e in zip(counts, expected, strict=True) if e > 0]
    if len(pairs) < 2:
        return 1.0
    chi2 = sum((c - e) ** 2 / e for c, e in pairs)
    return max(1.0, chi2 / (len(pairs) - 1))


# ---------------------------------------------------------------- censored durations


def km_quantile(durations: Sequence[float], observed: Sequence[bool], q: float) -> float | None:
    """The q-quantile of the Kaplan–Meier estimate: the smallest event time t with Ŝ(t) ≤ 1 − q.
    ``observed[i]`` is False for a right-censored duration (the visit was still open); at tied
    times events come before censorings. None when the estimate never falls that low (too much
    censoring) or there is no data."""
    if not 0 < q < 1:
        raise ValueError(f"q must be within (0, 1); got {q}")
    d = np.asarray(durations, dtype=float)
    o = np.asarray(observed, dtype=bool)
    if d.size == 0:
        return None
    order = np.argsort(d, kind="stable")
    d, o = d[order], o[order]
    times, first = np.unique(d, return_index=True)
    events = np.add.reduceat(o.astype(np.int64), first)
    at_risk = d.size - first
    surv = np.cumprod(1.0 - events / at_risk)
    hit = np.nonzero((events > 0) & (surv <= 1.0 - q + 1e-12))[0]
    return float(times[hit[0]]) if hit.size else None


# ---------------------------------------------------------------- multiplicity


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (family-wise error control), in input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (false-discovery-rate control), in input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i], reverse=True)
    out = [1.0] * m
    running = 1.0
    for rank_from_top, i in enumerate(order):
        rank = m - rank_from_top
        running = min(running, pvalues[i] * m / rank)
        out[i] = min(1.0, running)
    return out


# ---------------------------------------------------------------- discrete tests


_LEVEL_RTOL = 1e-9
"""A tail equal to t up to rounding (another library's or another code path's) is attainable at t."""

Attainable = Callable[[float], float]
"""F(t) of a discrete test: its largest attainable p-value ≤ t under the null (0 when none is),
which is P(p ≤ t) under the null. A continuous test has F(t) = t."""


def attainable_cdf(cdf: Callable[[int], float], t: float, k_max: int = 1 << 40) -> float:
    """F(t) of a lower-tail test on a count: the largest P(X ≤ k) that is ≤ t (0 if P(X ≤ 0) > t).
    Binary search (the cdf increases with k)."""
    t *= 1 + _LEVEL_RTOL
    if cdf(0) > t:
        return 0.0
    lo, hi = 0, 1  # cdf(lo) <= t; grow hi until cdf(hi) > t
    while hi < k_max and cdf(hi) <= t:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if cdf(mid) <= t else (lo, mid)
    return cdf(lo)


def attainable_sf(sf: Callable[[int], float], t: float, start: int, k_max: int = 1 << 40) -> float:
    """F(t) of an upper-tail test on a count: the largest P(X ≥ k) that is ≤ t, i.e. the tail at
    the smallest such k ≥ ``start`` (a count at or below it, e.g. the mean). Binary search."""
    t *= 1 + _LEVEL_RTOL
    lo = max(0, start)
    if sf(lo) <= t:
        return sf(lo)
    step, hi = 1, lo + 1  # sf(lo) > t; grow hi until sf(hi) <= t
    while sf(hi) > t:
        if hi > k_max:
            return 0.0
        lo, step = hi, step * 2
        hi = lo + step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if sf(mid) <= t else (mid, hi)
    return sf(hi)


def discrete_holm(pvalues: Sequence[float], attainable: Sequence[Attainable | None]) -> list[float]:
    """Step-down Holm for discrete tests (Tarone 1990; Hommel & Krummenauer 1998; Westfall &
    Wolfinger 1997): the r-th smallest p is adjusted to max over ranks ≤ r of Σ F_j(p_(r)) over
    the tests j not yet rejected, F_j the test's attainable-level function (``None``: continuous,
    F(t) = t, which gives plain Holm). A test that could only produce p-values above t adds
    nothing to the sum, so small segments do not spend the budget. Valid under any dependence
    (Bonferroni's union bound over the true nulls), in input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        t = pvalues[i]
        rest = order[rank:]
        total = sum(t if attainable[j] is None else attainable[j](t) for j in rest)  # type: ignore[misc]
        running = max(running, min(1.0, total))
        out[i] = running
    return out
