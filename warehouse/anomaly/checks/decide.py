"""The pure decisions shared by the checks: no SQL, no clock, only buckets and
:mod:`warehouse.anomaly.stats`.

Common rules (the reasons are in `stats`):
- windows are whole buckets anchored at ``as_of_date`` (bucket 0 ends on it);
- baselines exclude the window under test and every earlier bucket that was itself flagged
  (`stats.screen_history`, oldest first); immature conversion cohorts are never used;
- a segment is flagged only when it passes two gates (|z| ≥ 4 AND a relative change of ≥ 30%,
  in the tested direction) on a minimum sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from warehouse.anomaly import stats
from warehouse.anomaly.checks.base import Bucket, Series, known, num, r, window
from warehouse.anomaly.thresholds import (
    BASELINE_BUCKETS,
    COUNT_Z_THRESHOLD,
    MIN_BASELINE_BUCKETS,
    MIN_N,
    MIN_RELATIVE_CHANGE,
    MIN_SAME_WEEKDAY_WEEKS,
    SAME_WEEKDAY_WEEKS,
    Z_THRESHOLD,
)

# ------------------------------------------------------------------ proportions over weekly buckets


def proportion_anomalous(b: Bucket, baseline: Sequence[Bucket], direction: str) -> bool:
    x0 = sum(num(x.numerator) for x in baseline)
    n0 = sum(num(x.denominator) for x in baseline)
    phi = stats.binomial_dispersion([num(x.numerator) for x in baseline], [num(x.denominator) for x in baseline])
    z = stats.two_proportion_z(num(b.numerator), num(b.denominator), x0, n0, dispersion=phi)
    p0 = x0 / n0 if n0 else None
    p = num(b.numerator) / b.denominator if b.denominator else None
    return stats.passes_two_gates(
        z,
        stats.relative_change(p, p0),
        b.denominator,
        direction=direction,
        z_threshold=Z_THRESHOLD,
        min_relative_change=MIN_RELATIVE_CHANGE,
        min_n=MIN_N,
    )


def screen_weekly(
    series: Series, history: list[int], anomalous: Callable[[Bucket, list[Bucket]], bool]
) -> frozenset[int]:
    """Flag history buckets (indices, newest = smallest) oldest first against their own trailing
    unflagged baselines."""

    def test(idx: int, flagged: frozenset[int]) -> bool:
        earlier = [i for i in history if i > idx]
        base = stats.trailing_baseline(earlier, flagged, BASELINE_BUCKETS)
        if len(base) < MIN_BASELINE_BUCKETS:
            return False
        return anomalous(series[idx], [series[i] for i in base])

    return stats.screen_history(sorted(history, reverse=True), test)


def test_proportion(series: Series, window_idx: list[int], history: list[int], direction: str) -> dict[str, Any]:
    """Screen history, then test the pooled window against the trailing unflagged baseline."""
    flagged = screen_weekly(series, history, lambda b, base: proportion_anomalous(b, base, "both"))
    base_idx = stats.trailing_baseline(sorted(history), flagged, BASELINE_BUCKETS)
    win = [series[i] for i in window_idx]
    x = sum(num(b.numerator) for b in win)
    n = sum(num(b.denominator) for b in win)
    result: dict[str, Any] = {
        **window(win),
        "numerator": int(x),
        "n": int(n),
        "value": r(x / n) if n else None,
        "baseline_buckets": len(base_idx),
        "excluded_flagged_buckets": sorted(series[i].end.isoformat() for i in flagged),
    }
    if len(base_idx) < MIN_BASELINE_BUCKETS:
        return {**result, "flagged": False, "note": "not enough baseline buckets"}
    base = [series[i] for i in base_idx]
    x0 = sum(num(b.numerator) for b in base)
    n0 = sum(num(b.denominator) for b in base)
    phi = stats.binomial_dispersion([num(b.numerator) for b in base], [num(b.denominator) for b in base])
    z = stats.two_proportion_z(x, n, x0, n0, dispersion=phi)
    p, p0 = (x / n if n else None), (x0 / n0 if n0 else None)
    rel = stats.relative_change(p, p0)
    flag = stats.passes_two_gates(
        z, rel, n, direction=direction, z_threshold=Z_THRESHOLD, min_relative_change=MIN_RELATIVE_CHANGE, min_n=MIN_N
    )
    return {
        **result,
        "baseline": r(p0),
        "baseline_numerator": int(x0),
        "baseline_n": int(n0),
        "baseline_start": min(b.start for b in base).isoformat(),
        "baseline_end": max(b.end for b in base).isoformat(),
        "dispersion": r(phi, 3),
        "z": r(z, 2),
        "relative_change": r(rel, 3),
        "flagged": flag,
    }


# ------------------------------------------------------------------ counts with a same-weekday baseline


def same_weekday_baseline(series: Series, day: int, flagged: Iterable[int]) -> list[float]:
    earlier = [day + 7 * k for k in range(1, 3 * SAME_WEEKDAY_WEEKS) if day + 7 * k in series]
    return [num(series[i].value) for i in stats.trailing_baseline(earlier, set(flagged), SAME_WEEKDAY_WEEKS)]


def count_anomalous(
    observed: float, groups: list[list[float]], direction: str, min_n: float
) -> tuple[bool, dict[str, Any]]:
    expected = sum(sum(g) / len(g) for g in groups)
    k = min(len(g) for g in groups)
    phi = stats.poisson_dispersion(groups)
    z = stats.count_z(observed, expected, dispersion=phi, baseline_buckets=k)
    rel = stats.relative_change(observed, expected)
    n = max(expected, observed) if direction != "drop" else expected
    flag = stats.passes_two_gates(
        z,
        rel,
        n,
        direction=direction,
        z_threshold=COUNT_Z_THRESHOLD,
        min_relative_change=MIN_RELATIVE_CHANGE,
        min_n=min_n,
    )
    return flag, {
        "value": r(observed, 1),
        "baseline": r(expected, 1),
        "n": r(n, 1),
        "z": r(z, 2),
        "relative_change": r(rel, 3),
        "dispersion": r(phi, 3),
        "baseline_weeks": k,
    }


def screen_daily(series: Series, first_history_day: int, direction: str, min_n: float) -> frozenset[int]:
    def test(day: int, flagged: frozenset[int]) -> bool:
        base = same_weekday_baseline(series, day, flagged)
        if len(base) < MIN_SAME_WEEKDAY_WEEKS:
            return False
        return count_anomalous(num(series[day].value), [base], direction, min_n)[0]

    days = sorted((d for d in series if d >= first_history_day), reverse=True)
    return stats.screen_history(days, test)


# ------------------------------------------------------------------ medians of logs (durations)


def median_shift(win: Sequence[Bucket], base: Sequence[Bucket]) -> tuple[bool, dict[str, Any]]:
    """Window median of ln(dwell) against the baseline weeks: robust z scaled for sample size.
    Buckets must carry a value and a MAD (the caller filters)."""
    n_w = sum(b.n for b in win)
    m_w = sum(known(b.value) * b.n for b in win) / n_w  # n-weighted mean of the weekly medians
    m0 = known(stats.median([b.value for b in base]))
    sd0 = stats.MAD_TO_SD * known(stats.median([b.mad for b in base]))
    n0 = sum(b.n for b in base)
    mean_n = n0 / len(base)
    tau = stats.excess_between_sd([known(b.value) for b in base], stats.MEDIAN_SE_FACTOR * sd0 / math.sqrt(mean_n))
    z = stats.median_shift_z(m_w, n_w, m0, sd0, n0, between_bucket_sd=tau)
    rel = math.exp(m_w - m0) - 1.0
    flag = stats.passes_two_gates(
        z, rel, n_w, direction="spike", z_threshold=Z_THRESHOLD, min_relative_change=MIN_RELATIVE_CHANGE, min_n=MIN_N
    )
    return flag, {
        "value_days": r(math.exp(m_w), 2),
        "baseline_days": r(math.exp(m0), 2),
        "z": r(z, 2),
        "relative_change": r(rel, 3),
        "n": n_w,
        "baseline_n": n0,
        "robust_sd_log": r(sd0, 3),
        "between_week_sd_log": r(tau, 3),
        "p90_days": r(max(b.p90 or 0 for b in win), 1),
        "baseline_p90_days": r(stats.median([b.p90 for b in base]), 1),
    }
