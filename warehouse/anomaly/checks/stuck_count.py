"""The count test of `stuck_deals` (pure statistics): the open visits of a step that became stuck
in a span of entries (past 5 × the usual dwell at E) against the number the same entries would
leave open at the baseline's survival, on their own time scale (docs/checks.md#stuck_deals).
The entry-week and owner scans (`stuck_weeks`, `stuck_owners`) test subsets of the same span."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from warehouse.anomaly import exact
from warehouse.anomaly.checks.visits import Visits, usual_dwell
from warehouse.anomaly.thresholds import DWELL_WINDOW_DAYS, EXPOSURE_BASELINE_DAYS, STUCK_MULTIPLE, STUCK_WINDOW_DAYS

PACE_MIN_EXITS = 20
"""The entries' pace is estimated only from at least this many exits (else 1: the usual pace)."""
SUBCOHORT_DAYS = 28.0
"""The window's entries are split into two 4-week halves, each with its own pace when it has at
least SUBCOHORT_MIN_EXITS exits (a season's turn within the window), else the window's pace."""
SUBCOHORT_MIN_EXITS = 100
SUBSET_MIN_SUPPORT = 5
"""A subset of the span (an entry week, an owner's entries) is tested only when at least this many
baseline visits outlast its youngest age (else 'not enough data'): what is usual at those ages
must rest on more than one or two visits."""
MEDIAN_STEPS_BACK = 3
"""`before_tested_dwell` looks back at most this many 8-week steps for a first usual dwell."""
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
    days before it, censored there. An inflated m₀ only moves the cut earlier; in a small account
    a batch can be most of those 182 days' entries and inflate m₀ so much (seed 18 at 300 deals a
    year: 7.7 → 120 days) that the cut falls before the step's first visit, or so that the median is
    never reached (no m₀). Then (only then) m₀
    comes from the 182 days before an earlier end, stepping back STUCK_WINDOW_DAYS at a time (at
    most MEDIAN_STEPS_BACK times) to the first that places a cut with visits before it."""

    def from_cut(m0: float | None) -> float | None:
        if m0 is None or m0 <= 0:
            return None
        return usual_dwell(v, end - STUCK_WINDOW_DAYS - STUCK_MULTIPLE * m0, EXPOSURE_BASELINE_DAYS)

    first = usual_dwell(v, end - DWELL_WINDOW_DAYS, EXPOSURE_BASELINE_DAYS)
    m = from_cut(first)
    for k in range(1, MEDIAN_STEPS_BACK + 1):
        if m is not None:
            break
        earlier = usual_dwell(v, end - DWELL_WINDOW_DAYS - k * STUCK_WINDOW_DAYS, EXPOSURE_BASELINE_DAYS)
        if earlier is not None and (first is None or earlier < first):
            m = from_cut(earlier)
    return m


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


def _w_sums(
    ages: np.ndarray, dwell0: np.ndarray, pace: float | np.ndarray, sorted0: np.ndarray | None
) -> tuple[float, float]:
    """(Σ_j w_j, Σ_j w_j²) over the baseline visits j, w_j = #{i: a_i < d_j} (a_i = age_i / pace_i),
    from the ages' side: Σ_j w_j = Σ_i G(a_i) and Σ_j w_j² = Σ_{i,i'} G(max(a_i, a_i')) =
    Σ_r (2r + 1) G(a_(r)) over the ages sorted ascending, with G(a) = #{j: d_j > a}, one binary
    search per age into the sorted baseline (``sorted0``: ``dwell0`` sorted, when the caller has it;
    a span's subsets reuse one sort instead of searching every baseline visit per subset)."""
    d = np.sort(dwell0) if sorted0 is None else sorted0
    a = np.sort(ages / pace)
    g = (len(d) - np.searchsorted(d, a, side="right")).astype(float)
    return float(g.sum()), float(((2 * np.arange(len(a)) + 1) * g).sum())


def expected_still_open(
    ages: np.ndarray, dwell0: np.ndarray, pace: float | np.ndarray, sorted0: np.ndarray | None = None
) -> tuple[float, float]:
    """(μ, Var μ̂): the visits of these ages expected to be still open if they stayed like the
    baseline's, μ = Σ_i S₀(age_i / pace_i) (S₀: the share of baseline dwells longer than a; every
    baseline visit followed at least that long), on the entries' own time scale (accelerated
    failure time). Written as a mean over the baseline visits j, μ = mean_j w_j with w_j the
    number of rescaled ages below d_j, so the sampling variance of the estimate is
    var_j(w_j) / n₀ (a baseline of a few long dwells is an uncertain one)."""
    n0 = len(dwell0)
    if not n0 or not len(ages):
        return 0.0, 0.0
    s1, s2 = _w_sums(ages, dwell0, pace, sorted0)
    mean = s1 / n0
    return mean, max(0.0, (s2 - n0 * mean * mean) / (n0 - 1)) / n0 if n0 > 1 else 0.0


def expected_still_open_jeffreys(
    ages: np.ndarray, dwell0: np.ndarray, pace: float | np.ndarray, sorted0: np.ndarray | None = None
) -> tuple[float, float]:
    """`expected_still_open` with Jeffreys' half-count prior on each age's survival: the baseline
    gets half a visit that outlasts every age and half a visit that leaves at once (S₀(a) =
    (k + ½) / (n₀ + 1) where k of n₀ outlast a), so a tail that one or no baseline visit reached
    is not taken for certainty. For the entry-week tests, whose few ages rest on a handful of
    baseline visits (the 8-week count averages that noise out)."""
    n0 = len(dwell0)
    if not n0 or not len(ages):
        return 0.0, 0.0
    s1, s2 = _w_sums(ages, dwell0, pace, sorted0)
    k = float(len(ages))  # the half visit outlasting every age has w = k, the one leaving at once 0
    mean = (s1 + 0.5 * k) / (n0 + 1)
    var = max(0.0, (s2 + 0.5 * k * k) / (n0 + 1) - mean * mean) * (n0 + 1) / n0 if n0 > 1 else mean * mean
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

    @functools.cached_property
    def sorted0(self) -> np.ndarray:
        """The baseline's dwells sorted (one sort for every subset the scans test)."""
        return np.sort(self.dwell0)


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
    against ``expected_still_open`` of their ages (``prior``: `expected_still_open_jeffreys` and
    the SUBSET_MIN_SUPPORT rule, for the scans' small subsets)."""
    sel = np.ones(len(sp.ages), dtype=bool) if sel is None else sel
    expect = expected_still_open_jeffreys if prior else expected_still_open
    mu, var_mu = expect(sp.ages[sel], sp.dwell0, sp.scale[sel], sp.sorted0)
    res = count_test(int(np.isinf(sp.dwell[sel]).sum()), int(sel.sum()), mu, var_mu)
    if prior:  # the baseline visits the expectation rests on: those outlasting the youngest age
        res["support"] = int((sp.dwell0 > (sp.ages[sel] / sp.scale[sel]).min()).sum()) if sel.any() else 0
        if res["support"] < SUBSET_MIN_SUPPORT:
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
