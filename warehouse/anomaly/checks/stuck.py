"""`stuck_deals`: open deals sitting in a step past 5 × its usual (median) dwell, with no upper
bound (the oldest are the ones to chase). Tested as the COUNT of open deals that became stuck in
the last 8 weeks (age in (5m, 5m + 56 days]) against the count expected from the same entries
under the step's earlier survival curve, rescaled to the entries' own pace (docs/checks.md#stuck_deals)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import numpy as np

from core.funnel import OPEN_DEAL_STEPS
from warehouse.anomaly import exact
from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec, decide_family, exact_outcome
from warehouse.anomaly.checks.visits import Visits, end_of, load_visits, to_datetime, usual_dwell
from warehouse.anomaly.thresholds import (
    ALPHA,
    DWELL_WINDOW_DAYS,
    EXPOSURE_BASELINE_DAYS,
    SAMPLE_SIZE,
    STUCK_MULTIPLE,
    STUCK_WINDOW_DAYS,
)

PACE_MIN_EXITS = 20
"""The entries' pace is estimated only from at least this many exits (else 1: the usual pace)."""
SUBCOHORT_DAYS = 28.0
"""The window's entries are split into two 4-week halves, each with its own pace when it has at
least SUBCOHORT_MIN_EXITS exits (a season's turn within the window), else the window's pace."""
SUBCOHORT_MIN_EXITS = 100
ENTRY_WEEK_DAYS = 7.0
"""The entry-week scan: the span's entries week by week (a batch moved into the step together)."""
WEEK_MIN_SUPPORT = 5
"""An entry week is tested only when at least this many baseline visits outlast its youngest age
(else 'not enough data'): what is usual at those ages must rest on more than one or two visits."""
PACE_BOUNDS = (0.5, 2.0)
"""The pace factor is clipped to this range (a guard against a thin or odd sample)."""


def before_tested_dwell(v: Visits, end: float) -> float | None:
    """The step's usual dwell estimated only from visits that entered before any visit under test.

    The tested visits cross STUCK_MULTIPLE × m in the last STUCK_WINDOW_DAYS, so they entered
    after ``cut = E − STUCK_WINDOW_DAYS − STUCK_MULTIPLE × m``. A batch of deals left behind sits
    open in the step for months; counted as at risk in the Kaplan–Meier estimate it drags the
    hazard down and inflates m (by 2-3 × when the batch outnumbers the step's normal traffic), so
    it no longer counts as stuck. So: a first estimate m₀ (the usual one, the 182 days before the
    last 4 weeks) places the cut, and m is the KM median of the visits that entered in the 182
    days before it, censored there. An inflated m₀ only moves the cut earlier."""
    first = usual_dwell(v, end - DWELL_WINDOW_DAYS, EXPOSURE_BASELINE_DAYS)
    if first is None or first <= 0:
        return first
    cut = end - STUCK_WINDOW_DAYS - STUCK_MULTIPLE * first
    return usual_dwell(v, cut, EXPOSURE_BASELINE_DAYS)


def dwell_at(v: Visits, end: float) -> np.ndarray:
    """Each visit's dwell as known at ``end``: exit − entry, ``inf`` while open at ``end``."""
    open_ = np.isnan(v.exited) | (v.exited >= end)
    return np.where(open_, math.inf, v.exited - v.entered)


def pace_ratio(
    dwell: np.ndarray,
    dwell0: np.ndarray,
    cap: float,
    *,
    min_exits: int = PACE_MIN_EXITS,
    fallback: float = 1.0,
    rounds: int = 8,
) -> float:
    """How much slower (> 1) the tested entries move than the baseline's, as one time scale c
    (accelerated failure time: their dwell is c × the baseline's): the fixed point of
    c = median(their exits ≤ c × cap) / median(the baseline's exits ≤ cap), where a scale c maps
    one truncated median onto the other exactly. Only exits count, so a batch that never leaves
    cannot move it. Clipped to PACE_BOUNDS; 1 with fewer than PACE_MIN_EXITS exits on either side."""
    d0 = dwell0[dwell0 <= cap]
    if len(d0) < min_exits:
        return fallback
    m0 = float(np.median(d0))
    lo, hi = PACE_BOUNDS
    c = 1.0
    for _ in range(rounds):
        d = dwell[dwell <= c * cap]
        if len(d) < min_exits or m0 <= 0:
            return fallback
        c = float(np.clip(np.median(d) / m0, lo, hi))
    return c


def expected_still_open(ages: np.ndarray, dwell0: np.ndarray, pace: float | np.ndarray) -> tuple[float, float]:
    """(μ, Var μ̂): the visits of these ages expected to be still open if they stayed like the
    baseline's, μ = Σ_i S₀(age_i / pace_i) (S₀: the share of baseline dwells longer than a; every
    baseline visit followed at least that long), on the entries' own time scale (accelerated
    failure time). Written as a mean over the baseline visits j, μ = mean_j w_j with w_j the
    number of rescaled ages below d_j, so the sampling variance of the estimate is
    var_j(w_j) / n₀ (a baseline of a few long dwells is an uncertain one)."""
    n0 = len(dwell0)
    if not n0 or not len(ages):
        return 0.0, 0.0
    w = np.searchsorted(np.sort(ages / pace), dwell0, side="left").astype(float)
    return float(w.mean()), float(w.var(ddof=1) / n0) if n0 > 1 else 0.0


def expected_still_open_jeffreys(ages: np.ndarray, dwell0: np.ndarray, pace: float | np.ndarray) -> tuple[float, float]:
    """`expected_still_open` with Jeffreys' half-count prior on each age's survival: the baseline
    gets half a visit that outlasts every age and half a visit that leaves at once (S₀(a) =
    (k + ½) / (n₀ + 1) where k of n₀ outlast a), so a tail that one or no baseline visit reached
    is not taken for certainty. For the entry-week tests, whose few ages rest on a handful of
    baseline visits (the 8-week count averages that noise out)."""
    n0 = len(dwell0)
    if not n0 or not len(ages):
        return 0.0, 0.0
    w = np.searchsorted(np.sort(ages / pace), dwell0, side="left").astype(float)
    w = np.concatenate([w, [float(len(ages)), 0.0]])
    weights = np.concatenate([np.ones(n0), [0.5, 0.5]])
    mean = float(np.average(w, weights=weights))
    var = float(np.average((w - mean) ** 2, weights=weights)) * (n0 + 1) / n0 if n0 > 1 else mean * mean
    return mean, var / (n0 + 1)


def count_test(x: int, n: int, mu: float, var_mu: float) -> dict[str, Any]:
    """A count ``x`` of ``n`` entries still open against its expectation ``mu`` (± ``var_mu``, the
    expectation's sampling variance): the upper tail of the negative binomial with mean μ and
    variance μ + Var μ̂ (Poisson for the count, plus the uncertainty of the baseline's survival);
    ``min_p``: every entry still open (the power floor); ``attainable``: its attainable levels."""
    size = mu * mu / var_mu if var_mu > 0 else math.inf
    res: dict[str, Any] = {"value": x, "baseline": mu, "expected": mu, "expected_sd": math.sqrt(var_mu)}
    res |= {"n": n, "p": 1.0, "min_p": 1.0}
    if mu <= 0 or not n:
        return res
    res["p"] = exact.negbin_sf(x, mu, size)
    res["min_p"] = exact.negbin_sf(n, mu, size)
    sf = functools.lru_cache(maxsize=None)(lambda k: exact.negbin_sf(k, mu, size))  # searched once per level
    res["attainable"] = lambda t: exact.attainable_sf(sf, t, math.floor(mu))
    return res


@dataclass(frozen=True)
class Span:
    """The entries that became stuck in the window (entered in ``[E − age − w, E − age)``): their
    ages at E, dwells as known at E (``inf`` while open) and time scales (pace), and the
    baseline's dwells (the entries of the ``baseline_days`` before)."""

    ages: np.ndarray
    dwell: np.ndarray
    scale: np.ndarray
    dwell0: np.ndarray
    mask: np.ndarray
    """Which visits of the step are the span's entries."""
    pace: float
    paces: list[float]
    baseline_n: int


def stuck_span(v: Visits, age: float, end: float, window_days: float, baseline_days: float) -> Span:
    lo, hi = end - age - window_days, end - age
    cur = (v.entered >= lo) & (v.entered < hi)
    base = (v.entered >= lo - baseline_days) & (v.entered < lo)
    dwell = dwell_at(v, end)
    d, d0 = dwell[cur], dwell[base]
    pace = pace_ratio(d, d0, age)
    ages = end - v.entered[cur]
    scale = np.full(len(ages), pace)
    paces = []
    for lo_w in np.arange(0, window_days, SUBCOHORT_DAYS):  # the window's halves, newest first
        sub = (ages > age + lo_w) & (ages <= age + lo_w + SUBCOHORT_DAYS)
        paces.append(pace_ratio(d[sub], d0, age, min_exits=SUBCOHORT_MIN_EXITS, fallback=pace))
        scale[sub] = paces[-1]
    return Span(ages, d, scale, d0, cur, pace, paces, int(base.sum()))


def span_count_test(sp: Span, sel: np.ndarray | None = None, *, prior: bool = False) -> dict[str, Any]:
    """`count_test` of the span's entries (or those selected by ``sel``): how many are still open
    against ``expected_still_open`` of their ages (``prior``: `expected_still_open_jeffreys`)."""
    sel = np.ones(len(sp.ages), dtype=bool) if sel is None else sel
    expect = expected_still_open_jeffreys if prior else expected_still_open
    mu, var_mu = expect(sp.ages[sel], sp.dwell0, sp.scale[sel])
    res = count_test(int(np.isinf(sp.dwell[sel]).sum()), int(sel.sum()), mu, var_mu)
    if prior:  # the baseline visits the expectation rests on: those outlasting the youngest age
        res["support"] = int((sp.dwell0 > (sp.ages[sel] / sp.scale[sel]).min()).sum()) if sel.any() else 0
        if res["support"] < WEEK_MIN_SUPPORT:
            res |= {"p": 1.0, "min_p": 1.0}
            res.pop("attainable", None)
    if len(sp.dwell0) < PACE_MIN_EXITS:
        res |= {"p": 1.0, "min_p": 1.0}
        res.pop("attainable", None)
    return res


def stuck_count_test(v: Visits, age: float, end: float, window_days: float, baseline_days: float) -> dict[str, Any]:
    """The open visits that became stuck in the window, i.e. entered in ``[E − age − w, E − age)``
    and still open at E (past ``age``, at most ``age + w``), against their expected number:
    ``expected_still_open`` of those entries with the survival of the entries of the
    ``baseline_days`` before (each followed ≥ age + w days, so S₀ is censoring-free there) and
    the entries' own pace, tested by `count_test`."""
    sp = stuck_span(v, age, end, window_days, baseline_days)
    res = span_count_test(sp)
    return res | {"baseline_n": sp.baseline_n, "pace": sp.pace, "pace_by_half": sp.paces}


def entry_week_tests(sp: Span, age: float, end: float, window_days: float) -> list[dict[str, Any]]:
    """The same count, entry week by entry week of the span (the first: the entries that became
    stuck in the last 7 days): a batch moved into the step together (an import, a bulk edit) and left
    there shows as one week of entries that all stayed, long before it moves the 8-week count.
    Each week is tested against its own entries' expectation; ``entered_from``/``entered_to``
    (ISO dates) name the week."""
    out = []
    for k in range(int(window_days // ENTRY_WEEK_DAYS)):
        a_lo, a_hi = age + ENTRY_WEEK_DAYS * k, age + ENTRY_WEEK_DAYS * (k + 1)
        sel = (sp.ages > a_lo) & (sp.ages <= a_hi)
        res = span_count_test(sp, sel, prior=True)
        res["open_in_week"] = sel & np.isinf(sp.dwell)  # which of the span's entries (not metadata)
        res["entered_from"] = to_datetime(end - a_hi).date().isoformat()
        res["entered_to"] = to_datetime(end - a_lo).date().isoformat()
        out.append(res)
    return out


def _week_findings(
    v: Visits, sp: Span, step: str, age: float, end: float, window: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """The entry-week tests of one step, keyed ``step:entry week k`` (1: the newest; its dates in
    ``entered_from``/``entered_to``), with the ids of its still-open entries (oldest first)."""
    out: dict[str, dict[str, Any]] = {}
    ids, entered = v.deal_id[sp.mask], v.entered[sp.mask]
    for res in entry_week_tests(sp, age, end, STUCK_WINDOW_DAYS):
        key = f"{step}:entry week {len(out) + 1}"
        sel = res.pop("open_in_week")
        out[key] = {"segment": key, **window, **res, "stuck_after_days": age}
        out[key]["sample_ids"] = [str(d) for d in ids[sel][np.argsort(entered[sel])][:SAMPLE_SIZE]]
    return out


def stuck_deals(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    visits = load_visits(con)
    end = end_of(as_of_date)
    w_lo = end - STUCK_WINDOW_DAYS
    findings: dict[str, dict[str, Any]] = {}
    weeks: dict[str, dict[str, Any]] = {}
    for step in OPEN_DEAL_STEPS:
        v = visits.of_step(step)
        median = before_tested_dwell(v, end)
        base = {
            "segment": step,
            "window_start": to_datetime(w_lo).date().isoformat(),
            "window_end": as_of_date.isoformat(),
        }
        if median is None or median <= 0:
            findings[step] = {**base, "p": 1.0, "min_p": 1.0, "note": "no usual dwell (too few completed visits)"}
            continue
        age = STUCK_MULTIPLE * median
        sp = stuck_span(v, age, end, STUCK_WINDOW_DAYS, EXPOSURE_BASELINE_DAYS)
        res = span_count_test(sp) | {"baseline_n": sp.baseline_n, "pace": sp.pace, "pace_by_half": sp.paces}
        weeks |= _week_findings(v, sp, step, age, end, {k: base[k] for k in ("window_start", "window_end")})
        open_age = end - v.entered
        stuck = np.isnan(v.exited) & (open_age > age)
        counted = stuck & (open_age <= age + STUCK_WINDOW_DAYS)  # the tested count's deals
        order = np.argsort(v.entered[stuck])  # oldest first
        findings[step] = {
            **base,
            **res,
            "usual_dwell_days": median,
            "stuck_after_days": age,
            "open_stuck_now": int(stuck.sum()),
            "oldest_stuck_days": float(open_age[stuck].max()) if stuck.any() else None,
            "unit": f"open deals {age:.0f}-{age + STUCK_WINDOW_DAYS:.0f} days in the step "
            f"(became stuck past {STUCK_MULTIPLE:g} x usual dwell in the last {STUCK_WINDOW_DAYS} days)",
            "sample_ids": [str(d) for d in v.deal_id[stuck][order][:SAMPLE_SIZE]],
            "counted_ids": [str(d) for d in v.deal_id[counted][np.argsort(v.entered[counted])][:SAMPLE_SIZE]],
        }
    flagged = decide_family(findings, ALPHA)
    week_flagged = decide_family(weeks, ALPHA) if weeks else []
    parts = [
        f"{s}: {findings[s]['value']} open deals became stuck there (past {findings[s]['stuck_after_days']:.0f} "
        f"days) in the last {STUCK_WINDOW_DAYS} days, {findings[s]['expected']:.1f} expected "
        f"(p={findings[s]['p']:.1e}); {findings[s]['open_stuck_now']} open deals are past "
        f"{findings[s]['stuck_after_days']:.0f} days in total"
        for s in flagged
    ]
    parts += [
        f"a batch left stuck in {k.split(':')[0]}: {weeks[k]['value']} of the {weeks[k]['n']} deals that entered it "
        f"{weeks[k]['entered_from']}..{weeks[k]['entered_to']} are still there (past "
        f"{weeks[k]['stuck_after_days']:.0f} days), {weeks[k]['expected']:.1f} expected (p={weeks[k]['p']:.1e})"
        for k in week_flagged
    ]
    return exact_outcome(SPEC, findings | weeks, flagged + week_flagged, "; ".join(parts), ALPHA)


SPEC = CheckSpec(
    "stuck_deals",
    "fct_deal_stage_history",
    "WARN",
    f"Open deals in a step past {STUCK_MULTIPLE:g} x its usual (Kaplan-Meier median) dwell, no upper bound (listed "
    f"oldest first); tested as the count of those that became stuck in the last {STUCK_WINDOW_DAYS} days vs "
    f"the count expected from the same entries under the survival of the {EXPOSURE_BASELINE_DAYS} days of "
    f"entries before, at their own pace (negative-binomial tail: Poisson plus the uncertainty of that expectation; Holm, "
    f"alpha {ALPHA}); and entry week by entry week of those {STUCK_WINDOW_DAYS} days (a batch moved in together and "
    f"left there; its own Holm family over steps x weeks, alpha {ALPHA}).",
    stuck_deals,
)
