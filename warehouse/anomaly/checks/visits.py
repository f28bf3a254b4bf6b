"""The stage visits the exposure-based checks read (one SQL query) and the pure statistics over
them: events per deal-day at risk, exits per deal-day by age in the step (dwell), flapping days
(the stuck-deal count is in `checks.stuck`).

Times are float days since the Unix epoch (UTC); ``E`` is the end of ``as_of_date`` (the
exclusive instant the marts are built up to), so a window of ``w`` days is ``[E − w, E)``.
A visit is *at risk* in a step from its entry until it exits (or ``E`` when it is open).
Definitions and reasons: docs/checks.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import numpy as np

from core.funnel import STEP_ORDER
from warehouse.anomaly import exact

VISITS_RELATION = "marts.fct_deal_stage_history"

_VISITS_SQL = f"""
select deal_id, funnel_step, visit_number, entered_at, exited_at,
       coalesce(lead(funnel_step) over (partition by deal_id order by visit_number), '') as next_step
from {VISITS_RELATION}
"""


@dataclass(frozen=True)
class Visits:
    """Column arrays of the stage visits (one row per deal and visit)."""

    deal_id: np.ndarray  # object
    step: np.ndarray  # object
    visit_number: np.ndarray  # int
    entered: np.ndarray  # float days since epoch
    exited: np.ndarray  # float days, NaN while open
    next_step: np.ndarray  # object, '' while open

    def of_step(self, step: str) -> Visits:
        m = self.step == step
        return Visits(*(a[m] for a in self._arrays()))

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return (self.deal_id, self.step, self.visit_number, self.entered, self.exited, self.next_step)

    def __len__(self) -> int:
        return len(self.entered)


def _days(values: np.ndarray) -> np.ndarray:
    """datetime64 (or Python datetimes) → float days since the epoch; NaT → NaN."""
    mask = np.ma.getmaskarray(values) if np.ma.isMaskedArray(values) else None
    arr = np.ma.getdata(values) if mask is not None else np.asarray(values)
    if arr.dtype == object:
        arr = np.array([np.datetime64("NaT") if v is None else np.datetime64(v) for v in arr], dtype="datetime64[us]")
    arr = arr.astype("datetime64[us]")
    out = arr.astype("int64").astype(float) / 86_400e6
    out[np.isnat(arr)] = np.nan
    if mask is not None:
        out[mask] = np.nan
    return out


def end_of(as_of_date: date) -> float:
    """E: 00:00 UTC of the day after ``as_of_date``, in epoch days."""
    return float((as_of_date + timedelta(days=1) - date(1970, 1, 1)).days)


def to_datetime(day: float) -> datetime:
    return datetime(1970, 1, 1) + timedelta(days=day)


def load_visits(con: duckdb.DuckDBPyConnection) -> Visits:
    res = con.execute(_VISITS_SQL).fetchnumpy()
    return Visits(
        np.asarray(res["deal_id"], dtype=object),
        np.asarray(res["funnel_step"], dtype=object),
        np.asarray(res["visit_number"], dtype=np.int64),
        _days(res["entered_at"]),
        _days(res["exited_at"]),
        np.asarray(res["next_step"], dtype=object),
    )


# ---------------------------------------------------------------- exposure (conversion)


def is_advance(step: str, next_steps: np.ndarray) -> np.ndarray:
    later = [s for s, o in STEP_ORDER.items() if o > STEP_ORDER[step]]
    return np.isin(next_steps, later)


def is_loss(next_steps: np.ndarray) -> np.ndarray:
    return next_steps == "lost"


def exposure(v: Visits, lo: float, hi: float, end: float, max_age: float = math.inf) -> float:
    """Deal-days at risk in ``[lo, hi)``: Σ overlap of [entered, min(exited or E, entered +
    max_age)) with it (days past ``max_age`` in the step belong to the stuck check)."""
    stop = np.minimum(np.where(np.isnan(v.exited), end, v.exited), v.entered + max_age)
    return float(np.clip(np.minimum(stop, hi) - np.maximum(v.entered, lo), 0, None).sum())


def events(v: Visits, mask: np.ndarray, lo: float, hi: float, max_age: float = math.inf) -> int:
    """Visits flagged by ``mask`` that exited within ``[lo, hi)``, younger than ``max_age``."""
    ex = v.exited
    return int((mask & (ex >= lo) & (ex < hi) & (ex - v.entered < max_age)).sum())


def rate_test(
    v: Visits,
    mask: np.ndarray,
    end: float,
    window_days: int,
    baseline_days: int,
    direction: str,
    max_age: float = math.inf,
) -> dict[str, Any]:
    """Events per deal-day in the window ``[E − w, E)`` vs the baseline just before it, with the
    quasi-Poisson dispersion of the baseline's weekly rates (`exact.rate_ratio_p`). Also returns
    ``min_p``: the p-value of the most extreme possible window (0 events for a drop), i.e. the
    test's power floor: when it cannot reach the alpha, the segment has "not enough data"."""
    w_lo = end - window_days
    b_lo = w_lo - baseline_days
    x, t = events(v, mask, w_lo, end, max_age), exposure(v, w_lo, end, end, max_age)
    x0, t0 = events(v, mask, b_lo, w_lo, max_age), exposure(v, b_lo, w_lo, end, max_age)
    rate0 = x0 / t0 if t0 else 0.0
    weeks = range(baseline_days // 7)
    counts = [events(v, mask, w_lo - 7 * (k + 1), w_lo - 7 * k, max_age) for k in weeks]
    expected = [rate0 * exposure(v, w_lo - 7 * (k + 1), w_lo - 7 * k, end, max_age) for k in weeks]
    phi = exact.poisson_dispersion(counts, expected)
    p = exact.rate_ratio_p(x, t, x0, t0, direction=direction, dispersion=phi)
    extreme = 0 if direction == "drop" else max(x, 3 * rate0 * t + 10)
    min_p = exact.rate_ratio_p(extreme, t, x0, t0, direction=direction, dispersion=phi)
    return {
        "value": x / t if t else math.nan,
        "baseline": rate0,
        "events": x,
        "exposure_days": t,
        "baseline_events": x0,
        "baseline_exposure_days": t0,
        "expected": rate0 * t,
        "dispersion": phi,
        "p": p,
        "min_p": min_p,
    }


# ---------------------------------------------------------------- censoring-aware dwell


def usual_dwell(v: Visits, before: float, lookback_days: int, q: float = 0.5) -> float | None:
    """The step's usual dwell: the Kaplan–Meier q-quantile of the visits that entered it in the
    ``lookback_days`` before ``before``, censored at ``before`` (open then = still at risk)."""
    m = (v.entered >= before - lookback_days) & (v.entered < before)
    if not m.any():
        return None
    ex = v.exited[m]
    observed = ~np.isnan(ex) & (ex <= before)
    stop = np.where(observed, ex, before)
    return exact.km_quantile(stop - v.entered[m], observed, q)


# ---------------------------------------------------------------- daily counts (bursts)


def daily_counts(days: np.ndarray, end: float, n_days: int) -> np.ndarray:
    """Counts per day index (0 = the last day before E) of event times ``days``."""
    idx = np.floor(end - days - 1e-9).astype(int)
    idx = idx[(idx >= 0) & (idx < n_days)]
    return np.bincount(idx, minlength=n_days)[:n_days].astype(float)


def flapping_deals_per_day(v: Visits, end: float, n_days: int, changes: int) -> np.ndarray:
    """Deals with ≥ ``changes`` stage changes (visits after the first) entered on the same day."""
    m = v.visit_number > 1
    idx = np.floor(end - v.entered[m] - 1e-9).astype(int)
    keep = (idx >= 0) & (idx < n_days)
    pairs: dict[tuple[str, int], int] = {}
    for d, i in zip(v.deal_id[m][keep], idx[keep], strict=True):
        pairs[(d, i)] = pairs.get((d, i), 0) + 1
    out = np.zeros(n_days)
    for (_, i), c in pairs.items():
        if c >= changes:
            out[i] += 1
    return out


def burst_p(counts: np.ndarray, day: int, weeks: int) -> tuple[float, float, float]:
    """(p, expected, dispersion) of a spike on day ``day`` against the same weekday of the
    ``weeks`` weeks before it (negative binomial with the dispersion pooled over the weekdays,
    plus the uncertainty of the mean; a half-count prior keeps a never-seen event finite)."""
    base = [counts[day + 7 * k] for k in range(1, weeks + 1) if day + 7 * k < len(counts)]
    if not base:
        return 1.0, math.nan, 1.0
    mu = (sum(base) + 0.5) / (len(base) + 1)
    groups = [[counts[d + 7 * k] for k in range(1, weeks + 1) if d + 7 * k < len(counts)] for d in range(7)]
    chi2 = df = 0.0
    for g in groups:
        if len(g) > 1 and sum(g) > 0:
            m = sum(g) / len(g)
            chi2 += sum((c - m) ** 2 for c in g) / m
            df += len(g) - 1
    phi = max(1.0, chi2 / df) if df else 1.0
    inflation = phi * (1 + 1 / len(base))
    size = math.inf if inflation <= 1 else mu / (inflation - 1)
    return exact.negbin_sf(counts[day], mu, size), mu, phi


# ---------------------------------------------------------------- exits per deal-day by age (dwell)


def age_exposure(v: Visits, lo: float, hi: float, end: float, edges: np.ndarray) -> np.ndarray:
    """Deal-days at risk in the calendar span ``[lo, hi)`` per age band ``[edges[j], edges[j+1])``
    (age = days since the visit entered; a visit is at risk until it exits, or ``end``)."""
    cum = cumulative_age_exposure(v, end, edges, np.array([lo, hi], dtype=float))
    return cum[1] - cum[0]


def cumulative_age_exposure(v: Visits, end: float, edges: np.ndarray, points: np.ndarray) -> np.ndarray:
    """G[i, j]: deal-days at risk in age band j before calendar time ``points[i]``, so the exposure
    of a span is a difference of two rows. One sort per band, then a search per point:
    G(x) = Σ_{s<x} (x − s) − Σ_{e<x} (x − e) over the band's at-risk intervals [s, e)."""
    stop = np.where(np.isnan(v.exited), end, v.exited)
    out = np.zeros((len(points), len(edges) - 1))
    for j in range(len(edges) - 1):
        s = v.entered + edges[j]
        e = np.minimum(v.entered + edges[j + 1], stop)
        keep = e > s
        s, e = np.sort(s[keep]), np.sort(e[keep])
        cs, ce = np.concatenate(([0.0], np.cumsum(s))), np.concatenate(([0.0], np.cumsum(e)))
        ns, ne = np.searchsorted(s, points, "left"), np.searchsorted(e, points, "left")
        out[:, j] = points * ns - cs[ns] - (points * ne - ce[ne])
    return out


def age_exits(v: Visits, lo: float, hi: float, edges: np.ndarray) -> np.ndarray:
    """Exits (to any step or outcome) within ``[lo, hi)`` per age band at exit."""
    m = (v.exited >= lo) & (v.exited < hi)
    age = v.exited[m] - v.entered[m]
    return np.histogram(age, bins=edges)[0].astype(float)


def exit_rate_test(v: Visits, end: float, window_days: int, baseline_days: int, edges: np.ndarray) -> dict[str, Any]:
    """A censoring-aware, log-rank-type test of slower exits: the window's exits against the
    number expected if each age band kept the baseline's exit rate per deal-day at risk
    (indirect standardization: E = Σ_j h_j T_j, h_j = O0_j / T0_j), tested with the exact
    conditional Poisson test of O over E against O0 over its own expectation O0
    (`exact.rate_ratio_p`, quasi-Poisson φ of the baseline weeks' O_k against E_k). Every visit
    in the step counts, open or not, for the days it sat there in each span, so a slowdown shows
    while the deals are still sitting there; ages past the last edge belong to `stuck_deals`.
    ``min_p`` is the power floor (no exit at all in the window)."""
    w_lo = end - window_days
    b_lo = w_lo - baseline_days
    weeks = baseline_days // 7
    points = np.array([b_lo, *(w_lo - 7 * k for k in range(weeks, -1, -1)), end], dtype=float)
    cum = cumulative_age_exposure(v, end, edges, points)
    o0 = age_exits(v, b_lo, w_lo, edges)
    t0 = cum[-2] - cum[0]
    hazard = np.divide(o0, t0, out=np.zeros_like(o0), where=t0 > 0)
    seen = t0 > 0
    o = float(age_exits(v, w_lo, end, edges)[seen].sum())
    expected = float((hazard * (cum[-1] - cum[-2])).sum())
    x0 = float(o0.sum())
    # baseline weeks, newest first: [w_lo − 7(k+1), w_lo − 7k) is cum rows (weeks − k) and (weeks − k + 1)
    counts = [float(age_exits(v, w_lo - 7 * (k + 1), w_lo - 7 * k, edges).sum()) for k in range(weeks)]
    exp_k = [float((hazard * (cum[weeks - k + 1] - cum[weeks - k])).sum()) for k in range(weeks)]
    phi = exact.poisson_dispersion(counts, exp_k)
    res: dict[str, Any] = {
        "exits": o,
        "expected_exits": expected,
        "baseline_exits": x0,
        "value": o / expected if expected else math.nan,
        "baseline": 1.0,
        "dispersion": phi,
        "p": 1.0,
        "min_p": 1.0,
    }
    if expected <= 0 or x0 <= 0:
        return res
    res["p"] = exact.rate_ratio_p(o, expected, x0, x0, direction="drop", dispersion=phi)
    res["min_p"] = exact.rate_ratio_p(0, expected, x0, x0, direction="drop", dispersion=phi)
    return res
