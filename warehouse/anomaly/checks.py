"""Funnel anomaly checks: plain functions ``(con, as_of_date) -> CheckOutcome``.

Each check reads the small metric table ``metrics.metric_funnel_history`` (built by dbt as of
``as_of_date``; see ``dbt_project/models/metrics/``), plus a few small, filtered queries on the
marts for the deal ids a person needs, and decides with :mod:`warehouse.anomaly.stats`.

Common rules (the reasons are in `stats`):
- windows are whole buckets anchored at ``as_of_date`` (bucket 0 ends on it);
- baselines exclude the window under test and every earlier bucket that was itself flagged
  (`stats.screen_history`, oldest first); immature conversion cohorts are never used;
- a segment is flagged only when it passes two gates (|z| ≥ 4 AND a relative change of ≥ 30%,
  in the tested direction) on a minimum sample;
- rates that are normal in real data (missing amounts, stuck deals, skips, regressions) are
  compared with their own baseline, never with zero;
- statistical surprises are WARN; only `structural_integrity` (which mirrors the blocking dbt
  tests for callers outside Dagster) is ERROR.

``run_all(con, as_of_date)`` runs every check of ``CHECKS``; a check that cannot run (a missing
table, say) comes back as a failed outcome naming the error instead of raising.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb

from warehouse.anomaly import stats

METRICS_TABLE = "metrics.metric_funnel_history"

# ------------------------------------------------------------------ thresholds (one place)

Z_THRESHOLD = 4.0
"""|z| at or beyond which a bucket may be flagged (one-sided p ≈ 3e-5 per test)."""
COUNT_Z_THRESHOLD = 5.0
"""Counts with a same-weekday baseline (lead volumes, daily transitions) use |z| ≥ 5: their z has
heavier tails than a normal (the dispersion is estimated from 8 weeks), so on 20 clean seeds × 10
channels a 4.4 happened once; a collapse like -90% of a channel scores 9 or more."""
MIN_RELATIVE_CHANGE = 0.30
"""...and the relative change it must also reach (30%)."""
MIN_N = 30
"""...on at least this many units (cohort members, transitions, expected leads, visits)."""
BASELINE_BUCKETS = 12
"""Trailing buckets (weeks or cohorts) a baseline uses, after excluding flagged ones."""
MIN_BASELINE_BUCKETS = 6
"""A baseline with fewer usable buckets is not trusted: the segment is reported, not tested."""
SAME_WEEKDAY_WEEKS = 8
"""Lead volumes and daily transitions: each day is compared with the same weekday of 8 weeks."""
MIN_SAME_WEEKDAY_WEEKS = 4
TEST_COHORTS = 2
"""Conversion: the latest 2 mature weekly cohorts are tested."""
RATE_WINDOW_WEEKS = 2
"""Dwell, skip, regression and won-amount checks test the last 14 days (2 weekly buckets)."""
STUCK_P90_BAND = (2.0, 4.0)
"""Stuck = still in the step 2-4 × its trailing p90 of completed visits after entering it (the
metric model's vars `anomaly_stuck_min/max_p90_multiple`); the tested share is over the deals that
entered the step that long ago. Open longer than 1 × p90 is a third of the open deals in normal
data, and the ancient tail (> 4 × p90) grows for months as zombie deals pile up: both are normal
and would swamp the signal, so the band in between is compared with its own baseline."""
STUCK_Z_THRESHOLD = 3.1
"""The stuck share's baseline is a handful of overlapping snapshots, so its z is conservative (see
`stuck_deals`). Measured on the sandbox (20k deals): clean seeds reach z ≤ 3.01, 60 injected stuck
negotiation deals z ≥ 3.15: the thinnest margin of all checks."""
STUCK_BASELINE_SNAPSHOTS = range(9, 27)
"""Stuck shares are compared with weekly snapshots 9–26 weeks back: a deal stuck today was
already stuck last week, so recent snapshots would contain the very deals under test."""
FLAP_MIN_DEALS = 10
"""A day needs at least this many flapping deals (≥ 3 stage changes that day) to be a burst."""
AMOUNT_OUTLIER_Z = 4.0
"""A won deal whose log amount is ≥ 4 robust sd from the baseline median is an outlier."""
MIN_OUTLIERS = 3
FRESHNESS_MAX_AGE = timedelta(hours=36)
SAMPLE_SIZE = 20
STEP_ORDER = {"lead": 1, "qualification": 2, "presentation": 3, "negotiation": 4, "won": 5}
NEXT_STEP = {
    "lead": "qualification",
    "qualification": "presentation",
    "presentation": "negotiation",
    "negotiation": "won",
}


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    asset: str
    """The dbt model the check is about (or ``<raw schema>.<table>`` for raw-load freshness)."""
    severity: str
    """'WARN' or 'ERROR'."""
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckSpec:
    name: str
    asset: str
    severity: str
    description: str
    fn: Callable[[duckdb.DuckDBPyConnection, date], CheckOutcome]


@dataclass(frozen=True)
class Bucket:
    index: int
    start: date
    end: date
    value: float | None
    numerator: float | None
    denominator: float | None
    n: int
    mad: float | None
    p90: float | None
    complete: bool


class MetricHistoryMismatch(RuntimeError):
    """The metric table was built for another as_of_date than the one asked for."""


# ------------------------------------------------------------------ shared helpers


def load_history(con: duckdb.DuckDBPyConnection, metric: str, as_of_date: date) -> dict[str, dict[int, Bucket]]:
    """{segment: {bucket_index: Bucket}} of one metric; checks the table's as_of_date."""
    rows = con.execute(
        f"select segment, bucket_index, period_start, period_end, value, numerator, denominator, n, mad, p90, "
        f"is_complete, as_of_date from {METRICS_TABLE} where metric = ? order by segment, bucket_index",
        [metric],
    ).fetchall()
    out: dict[str, dict[int, Bucket]] = {}
    for seg, idx, start, end, value, num, den, n, mad, p90, complete, built_for in rows:
        if built_for != as_of_date:
            raise MetricHistoryMismatch(
                f"{METRICS_TABLE} was built for as_of_date {built_for}, not {as_of_date}: rebuild it "
                f"(dbt build --vars '{{as_of_date: \"{as_of_date}\"}}') before running the checks"
            )
        out.setdefault(seg, {})[idx] = Bucket(idx, start, end, value, num, den, int(n or 0), mad, p90, bool(complete))
    return out


def _window(buckets: Sequence[Bucket]) -> dict[str, str]:
    return {
        "window_start": min(b.start for b in buckets).isoformat(),
        "window_end": max(b.end for b in buckets).isoformat(),
    }


def _r(x: float | None, digits: int = 4) -> float | None:
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return None if x is None or math.isnan(x) else (math.inf if x > 0 else -math.inf)
    return round(float(x), digits)


def _outcome(
    spec_name: str, findings: dict[str, dict], flagged: list[str], headline: str, **extra: Any
) -> CheckOutcome:
    spec = _SPECS[spec_name]
    passed = not flagged
    description = spec.description + (" " + headline if headline else "")
    metadata: dict[str, Any] = {"flagged_segments": flagged, "segments": findings, **extra}
    metadata["thresholds"] = {"z": Z_THRESHOLD, "min_relative_change": MIN_RELATIVE_CHANGE, "min_n": MIN_N}
    return CheckOutcome(spec.name, spec.asset, spec.severity, passed, description, metadata)


def _sample(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[str]:
    return [r[0] for r in con.execute(sql + f" limit {SAMPLE_SIZE}", params).fetchall()]


def _ts(d: date) -> datetime:
    """Midnight UTC starting day ``d`` (naive, like the warehouse's timestamps)."""
    return datetime(d.year, d.month, d.day)


# ------------------------------------------------------------------ proportions over weekly buckets


def _proportion_anomalous(b: Bucket, baseline: Sequence[Bucket], direction: str) -> bool:
    x0 = sum(x.numerator or 0 for x in baseline)
    n0 = sum(x.denominator or 0 for x in baseline)
    phi = stats.binomial_dispersion([x.numerator or 0 for x in baseline], [x.denominator or 0 for x in baseline])
    z = stats.two_proportion_z(b.numerator or 0, b.denominator or 0, x0, n0, dispersion=phi)
    p0 = x0 / n0 if n0 else None
    p = (b.numerator or 0) / b.denominator if b.denominator else None
    return stats.passes_two_gates(
        z,
        stats.relative_change(p, p0),
        b.denominator,
        direction=direction,
        z_threshold=Z_THRESHOLD,
        min_relative_change=MIN_RELATIVE_CHANGE,
        min_n=MIN_N,
    )


def _screen_weekly(
    series: dict[int, Bucket], history: list[int], anomalous: Callable[[Bucket, list[Bucket]], bool]
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


def _test_proportion(series: dict[int, Bucket], window_idx: list[int], history: list[int], direction: str) -> dict:
    """Screen history, then test the pooled window against the trailing unflagged baseline."""
    flagged = _screen_weekly(series, history, lambda b, base: _proportion_anomalous(b, base, "both"))
    base_idx = stats.trailing_baseline(sorted(history), flagged, BASELINE_BUCKETS)
    win = [series[i] for i in window_idx]
    x = sum(b.numerator or 0 for b in win)
    n = sum(b.denominator or 0 for b in win)
    result: dict[str, Any] = {
        **_window(win),
        "numerator": int(x),
        "n": int(n),
        "value": _r(x / n) if n else None,
        "baseline_buckets": len(base_idx),
        "excluded_flagged_buckets": sorted(series[i].end.isoformat() for i in flagged),
    }
    if len(base_idx) < MIN_BASELINE_BUCKETS:
        return {**result, "flagged": False, "note": "not enough baseline buckets"}
    base = [series[i] for i in base_idx]
    x0 = sum(b.numerator or 0 for b in base)
    n0 = sum(b.denominator or 0 for b in base)
    phi = stats.binomial_dispersion([b.numerator or 0 for b in base], [b.denominator or 0 for b in base])
    z = stats.two_proportion_z(x, n, x0, n0, dispersion=phi)
    p, p0 = (x / n if n else None), (x0 / n0 if n0 else None)
    rel = stats.relative_change(p, p0)
    flag = stats.passes_two_gates(
        z, rel, n, direction=direction, z_threshold=Z_THRESHOLD, min_relative_change=MIN_RELATIVE_CHANGE, min_n=MIN_N
    )
    return {
        **result,
        "baseline": _r(p0),
        "baseline_numerator": int(x0),
        "baseline_n": int(n0),
        "baseline_start": min(b.start for b in base).isoformat(),
        "baseline_end": max(b.end for b in base).isoformat(),
        "dispersion": _r(phi, 3),
        "z": _r(z, 2),
        "relative_change": _r(rel, 3),
        "flagged": flag,
    }


# ------------------------------------------------------------------ counts with a same-weekday baseline


def _same_weekday_baseline(series: dict[int, Bucket], day: int, flagged: Iterable[int]) -> list[float]:
    earlier = [day + 7 * k for k in range(1, 3 * SAME_WEEKDAY_WEEKS) if day + 7 * k in series]
    return [series[i].value or 0.0 for i in stats.trailing_baseline(earlier, set(flagged), SAME_WEEKDAY_WEEKS)]


def _count_anomalous(observed: float, groups: list[list[float]], direction: str, min_n: float) -> tuple[bool, dict]:
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
        "value": _r(observed, 1),
        "baseline": _r(expected, 1),
        "n": _r(n, 1),
        "z": _r(z, 2),
        "relative_change": _r(rel, 3),
        "dispersion": _r(phi, 3),
        "baseline_weeks": k,
    }


def _screen_daily(series: dict[int, Bucket], first_history_day: int, direction: str, min_n: float) -> frozenset[int]:
    def test(day: int, flagged: frozenset[int]) -> bool:
        base = _same_weekday_baseline(series, day, flagged)
        if len(base) < MIN_SAME_WEEKDAY_WEEKS:
            return False
        return _count_anomalous(series[day].value or 0.0, [base], direction, min_n)[0]

    days = sorted((d for d in series if d >= first_history_day), reverse=True)
    return stats.screen_history(days, test)


# ------------------------------------------------------------------ the checks


def stage_conversion_drop(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    history = load_history(con, "stage_conversion", as_of_date)
    findings, flagged = {}, []
    for seg in sorted(history, key=lambda s: STEP_ORDER.get(s, 9)):
        series = history[seg]
        mature = sorted(i for i, b in series.items() if b.complete)
        if len(mature) < TEST_COHORTS + MIN_BASELINE_BUCKETS:
            findings[seg] = {"flagged": False, "note": "not enough mature cohorts"}
            continue
        window_idx, hist = mature[:TEST_COHORTS], mature[TEST_COHORTS:]
        res = _test_proportion(series, window_idx, hist, "drop")
        res["step"] = f"{seg} → {NEXT_STEP.get(seg, '?')}"
        findings[seg] = res
        if res["flagged"]:
            flagged.append(seg)
            res["sample_ids"] = _unconverted_sample(con, seg, series[window_idx[-1]].start, series[window_idx[0]].end)
    headline = "; ".join(
        f"{findings[s]['step']}: {findings[s]['value']:.1%} of {findings[s]['n']} cohort members converted within "
        f"28 days vs {findings[s]['baseline']:.1%} in the baseline cohorts (z={findings[s]['z']})"
        for s in flagged
    )
    return _outcome("stage_conversion_drop", findings, flagged, headline)


def _unconverted_sample(con: duckdb.DuckDBPyConnection, step: str, start: date, end: date) -> list[str]:
    lo, hi = _ts(start), _ts(end + timedelta(days=1))
    if step == "lead":
        return _sample(
            con,
            "select l.lead_id from intermediate.int_leads_unioned l where l.created_at >= ? "
            "and l.created_at < ? and not exists (select 1 from intermediate.int_deal_contacts_unioned c "
            "where c.lead_id = l.lead_id) order by l.created_at",
            [lo, hi],
        )
    col, nxt = f"first_{step}_at", f"first_{NEXT_STEP[step]}_at"
    return _sample(
        con,
        f"select deal_id from marts.fct_deals where {col} >= ? and {col} < ? and ({nxt} is null "
        f"or {nxt} >= {col} + interval 28 day) order by {col}",
        [lo, hi],
    )


def lead_volume_anomaly(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    history = load_history(con, "leads", as_of_date)
    findings, flagged = {}, []
    for channel in sorted(history):
        series = history[channel]
        screened = _screen_daily(series, 7, "both", MIN_N)
        groups, observed = [], 0.0
        for day in range(7):
            base = _same_weekday_baseline(series, day, screened)
            if len(base) < MIN_SAME_WEEKDAY_WEEKS:
                groups = []
                break
            groups.append(base)
            observed += series[day].value or 0.0
        if not groups:
            findings[channel] = {"flagged": False, "note": "not enough same-weekday history"}
            continue
        flag, res = _count_anomalous(observed, groups, "both", MIN_N)
        res.update(
            _window([series[d] for d in range(7)]),
            flagged=flag,
            daily=[int(series[d].value or 0) for d in range(6, -1, -1)],
            baseline_daily=[_r(sum(g) / len(g), 1) for g in reversed(groups)],
            excluded_flagged_days=sorted(series[d].end.isoformat() for d in screened),
        )
        findings[channel] = res
        if flag:
            flagged.append(channel)
    headline = "; ".join(
        f"{c}: {findings[c]['value']:.0f} leads in the last 7 days vs {findings[c]['baseline']:.0f} expected from the "
        f"same weekdays of the previous {SAME_WEEKDAY_WEEKS} weeks ({findings[c]['relative_change']:+.0%}, "
        f"z={findings[c]['z']})"
        for c in flagged
    )
    return _outcome("lead_volume_anomaly", findings, flagged, headline)


def stage_dwell_spike(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    history = load_history(con, "dwell_log_days", as_of_date)
    findings, flagged = {}, []
    window_idx = list(range(RATE_WINDOW_WEEKS))
    for step in sorted(history, key=lambda s: STEP_ORDER.get(s, 9)):
        series = {i: b for i, b in history[step].items() if b.n > 0 and b.value is not None and b.mad}
        if any(i not in series for i in window_idx):
            findings[step] = {"flagged": False, "note": "no completed visits in the window"}
            continue
        hist = sorted(i for i in series if i >= RATE_WINDOW_WEEKS)
        flagged_hist = _screen_weekly(series, hist, lambda b, base: _dwell_test([b], base)[0])
        base_idx = stats.trailing_baseline(hist, flagged_hist, BASELINE_BUCKETS)
        win = [series[i] for i in window_idx]
        if len(base_idx) < MIN_BASELINE_BUCKETS:
            findings[step] = {"flagged": False, "note": "not enough baseline weeks", **_window(win)}
            continue
        base = [series[i] for i in base_idx]
        flag, res = _dwell_test(win, base)
        res.update(
            _window(win),
            baseline_start=min(b.start for b in base).isoformat(),
            baseline_end=max(b.end for b in base).isoformat(),
            baseline_weeks=len(base),
            excluded_flagged_weeks=sorted(series[i].end.isoformat() for i in flagged_hist),
            flagged=flag,
        )
        findings[step] = res
        if flag:
            flagged.append(step)
            res["sample_ids"] = _sample(
                con,
                "select deal_id from marts.fct_deal_stage_history where funnel_step = ? and exited_at >= ? "
                "and exited_at < ? order by dwell_days desc",
                [step, _ts(win[-1].start), _ts(win[0].end + timedelta(days=1))],
            )
    headline = "; ".join(
        f"{s}: median dwell {findings[s]['value_days']:.1f} days for visits that left it in the last 14 days vs "
        f"{findings[s]['baseline_days']:.1f} days before ({findings[s]['relative_change']:+.0%}, robust z="
        f"{findings[s]['z']})"
        for s in flagged
    )
    return _outcome("stage_dwell_spike", findings, flagged, headline)


def _dwell_test(win: Sequence[Bucket], base: Sequence[Bucket]) -> tuple[bool, dict]:
    """Window median of ln(dwell) against the baseline weeks: robust z scaled for sample size."""
    n_w = sum(b.n for b in win)
    m_w = sum(b.value * b.n for b in win) / n_w  # n-weighted mean of the weekly medians
    m0 = stats.median([b.value for b in base])
    sd0 = stats.MAD_TO_SD * stats.median([b.mad for b in base])
    n0 = sum(b.n for b in base)
    mean_n = n0 / len(base)
    tau = stats.excess_between_sd([b.value for b in base], stats.MEDIAN_SE_FACTOR * sd0 / math.sqrt(mean_n))
    z = stats.median_shift_z(m_w, n_w, m0, sd0, n0, between_bucket_sd=tau)
    rel = math.exp(m_w - m0) - 1.0
    flag = stats.passes_two_gates(
        z, rel, n_w, direction="spike", z_threshold=Z_THRESHOLD, min_relative_change=MIN_RELATIVE_CHANGE, min_n=MIN_N
    )
    return flag, {
        "value_days": _r(math.exp(m_w), 2),
        "baseline_days": _r(math.exp(m0), 2),
        "z": _r(z, 2),
        "relative_change": _r(rel, 3),
        "n": n_w,
        "baseline_n": n0,
        "robust_sd_log": _r(sd0, 3),
        "between_week_sd_log": _r(tau, 3),
        "p90_days": _r(max(b.p90 or 0 for b in win), 1),
        "baseline_p90_days": _r(stats.median([b.p90 for b in base]), 1),
    }


def stuck_deals(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    history = load_history(con, "stuck_open_share", as_of_date)
    findings, flagged = {}, []
    for step in sorted(history, key=lambda s: STEP_ORDER.get(s, 9)):
        series = history[step]
        now = series.get(0)
        base = [series[i] for i in STUCK_BASELINE_SNAPSHOTS if i in series and series[i].denominator]
        if now is None or not now.denominator or len(base) < MIN_BASELINE_BUCKETS:
            findings[step] = {"flagged": False, "note": "not enough snapshots"}
            continue
        shares = [b.numerator / b.denominator for b in base]
        p0 = stats.median(shares)
        # Weekly snapshots overlap: a deal stays in the band for up to (4 - 2) x p90 days, so the
        # baseline holds only span / band-width independent snapshots' worth of deals.
        band_days = (STUCK_P90_BAND[1] - STUCK_P90_BAND[0]) * (now.p90 or 1.0)
        span_days = (base[0].end - base[-1].end).days + 7
        independent = min(float(len(base)), max(1.0, span_days / band_days))
        n0 = independent * sum(b.denominator for b in base) / len(base)
        phi = stats.binomial_dispersion([b.numerator for b in base], [b.denominator for b in base])
        x, n = now.numerator, now.denominator
        z = stats.two_proportion_z(x, n, p0 * n0, n0, dispersion=phi)
        rel = stats.relative_change(x / n, p0)
        flag = stats.passes_two_gates(
            z,
            rel,
            n,
            direction="spike",
            z_threshold=STUCK_Z_THRESHOLD,
            min_relative_change=MIN_RELATIVE_CHANGE,
            min_n=MIN_N,
        )
        lo, hi = STUCK_P90_BAND[0] * (now.p90 or 0), STUCK_P90_BAND[1] * (now.p90 or 0)
        (beyond_p90,) = con.execute(
            "select count(*) from marts.fct_deal_stage_history where is_current and funnel_step = ? and dwell_days > ?",
            [step, now.p90 or 0],
        ).fetchone()
        res = {
            "snapshot": now.end.isoformat(),
            "value": _r(x / n),
            "stuck": int(x),
            "entered_in_band": int(n),
            "n": int(n),
            "baseline": _r(p0),
            "baseline_snapshots": f"{base[-1].end.isoformat()}..{base[0].end.isoformat()}",
            "z": _r(z, 2),
            "relative_change": _r(rel, 3),
            "dispersion": _r(phi, 3),
            "p90_days": _r(now.p90, 1),
            "stuck_band_days": [_r(lo, 1), _r(hi, 1)],
            "open_beyond_p90": int(beyond_p90),
            "flagged": flag,
        }
        res["sample_ids"] = (
            _sample(
                con,
                "select deal_id from marts.fct_deal_stage_history where is_current and funnel_step = ? "
                "and dwell_days > ? and dwell_days <= ? order by dwell_days desc",
                [step, lo, hi],
            )
            if flag
            else []
        )
        findings[step] = res
        if flag:
            flagged.append(step)
    headline = "; ".join(
        f"{s}: {findings[s]['stuck']} of the {findings[s]['n']} deals that entered it {findings[s]['stuck_band_days'][0]}"
        f"-{findings[s]['stuck_band_days'][1]} days ago (2-4 x p90) are still there ({findings[s]['value']:.1%}) vs "
        f"{findings[s]['baseline']:.1%} usually "
        f"(z={findings[s]['z']})"
        for s in flagged
    )
    return _outcome("stuck_deals", findings, flagged, headline)


def _rate_jump(con: duckdb.DuckDBPyConnection, as_of_date: date, name: str, metric: str, flag_col: str) -> CheckOutcome:
    history = load_history(con, metric, as_of_date)
    findings, flagged = {}, []
    for seg, series in sorted(history.items()):
        window_idx = list(range(RATE_WINDOW_WEEKS))
        hist = sorted(i for i in series if i >= RATE_WINDOW_WEEKS)
        res = _test_proportion(series, window_idx, hist, "spike")
        findings[seg] = res
        if res["flagged"]:
            flagged.append(seg)
            start, end = series[window_idx[-1]].start, series[0].end
            res["sample_ids"] = _sample(
                con,
                f"select deal_id from marts.fct_deal_stage_history where {flag_col} and entered_at >= ? "
                "and entered_at < ? group by deal_id order by count(*) desc, deal_id",
                [_ts(start), _ts(end + timedelta(days=1))],
            )
    what = metric.replace("_rate", "")
    headline = "; ".join(
        f"{findings[s]['value']:.1%} of the {findings[s]['n']} stage changes of the last 14 days were {what}s vs "
        f"{findings[s]['baseline']:.1%} before (z={findings[s]['z']})"
        for s in flagged
    )
    return _outcome(name, findings, flagged, headline)


def skip_rate_jump(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    return _rate_jump(con, as_of_date, "skip_rate_jump", "skip_rate", "is_skip")


def regression_rate_jump(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    return _rate_jump(con, as_of_date, "regression_rate_jump", "regression_rate", "is_regression")


def transition_burst(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    findings, flagged = {}, []
    burst_days: set[date] = set()
    # 1. daily stage changes into each step, each of the last 7 days vs its same weekday
    for step, series in sorted(load_history(con, "transitions", as_of_date).items()):
        screened = _screen_daily(series, 7, "both", MIN_N)
        days = []
        for day in range(7):
            base = _same_weekday_baseline(series, day, screened)
            if len(base) < MIN_SAME_WEEKDAY_WEEKS:
                continue
            flag, res = _count_anomalous(series[day].value or 0.0, [base], "spike", MIN_N)
            if flag:
                days.append({"day": series[day].end.isoformat(), **res})
                burst_days.add(series[day].end)
        findings[f"to:{step}"] = {
            "flagged": bool(days),
            "burst_days": days,
            "excluded_flagged_days": sorted(series[d].end.isoformat() for d in screened),
        }
        if days:
            flagged.append(f"to:{step}")
    # 2. flapping deals (>= 3 stage changes in one day) per day vs the previous 8 weeks
    flaps = load_history(con, "flapping_deals", as_of_date).get("all", {})
    if flaps:

        def flap_test(day: int, flagged_days: frozenset[int]) -> tuple[bool, dict]:
            earlier = [d for d in range(day + 1, day + 1 + 7 * SAME_WEEKDAY_WEEKS) if d in flaps]
            kept = stats.trailing_baseline(earlier, flagged_days, 7 * SAME_WEEKDAY_WEEKS)
            base = [flaps[d].value or 0.0 for d in kept]
            if len(base) < 7 * MIN_SAME_WEEKDAY_WEEKS:
                return False, {}
            return _count_anomalous(flaps[day].value or 0.0, [base], "spike", FLAP_MIN_DEALS)

        screened = stats.screen_history(
            sorted((d for d in flaps if d >= 7), reverse=True), lambda d, f: flap_test(d, f)[0]
        )
        days = []
        for day in range(7):
            flag, res = flap_test(day, screened)
            if flag:
                days.append({"day": flaps[day].end.isoformat(), **res})
                burst_days.add(flaps[day].end)
        findings["flapping_deals"] = {
            "flagged": bool(days),
            "burst_days": days,
            "excluded_flagged_days": sorted(flaps[d].end.isoformat() for d in screened),
        }
        if days:
            flagged.append("flapping_deals")
    sample: list[str] = []
    for day in sorted(burst_days, reverse=True):
        sample += _sample(
            con,
            "select deal_id from marts.fct_deal_stage_history where visit_number > 1 and "
            "entered_at >= ? and entered_at < ? group by deal_id order by count(*) desc, deal_id",
            [_ts(day), _ts(day + timedelta(days=1))],
        )
    headline = "; ".join(
        f"{seg} on {d['day']}: {d['value']:.0f} vs {d['baseline']:.1f} expected (z={d['z']})"
        for seg in flagged
        for d in findings[seg]["burst_days"]
    )
    return _outcome("transition_burst", findings, flagged, headline, sample_ids=sample[:SAMPLE_SIZE])


def won_amount_sanity(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    findings, flagged = {}, []
    window_idx = list(range(RATE_WINDOW_WEEKS))
    missing = load_history(con, "won_missing_amount", as_of_date).get("all", {})
    lo_win = _ts(as_of_date - timedelta(days=7 * RATE_WINDOW_WEEKS - 1))
    hi_win = _ts(as_of_date + timedelta(days=1))
    if missing:
        res = _test_proportion(missing, window_idx, sorted(i for i in missing if i >= RATE_WINDOW_WEEKS), "spike")
        findings["missing_amount"] = res
        if res["flagged"]:
            flagged.append("missing_amount")
            res["sample_ids"] = _sample(
                con,
                "select deal_id from marts.fct_deals where outcome = 'won' and closed_at >= ? and closed_at < ? "
                "and coalesce(amount_reporting, 0) = 0 order by closed_at",
                [lo_win, hi_win],
            )
    amounts = load_history(con, "won_log_amount", as_of_date).get("all", {})
    base = [
        amounts[i]
        for i in sorted(amounts)
        if i >= RATE_WINDOW_WEEKS and i < RATE_WINDOW_WEEKS + BASELINE_BUCKETS and amounts[i].n > 0 and amounts[i].mad
    ]
    if len(base) >= MIN_BASELINE_BUCKETS:
        m0 = stats.median([b.value for b in base])
        sd0 = stats.MAD_TO_SD * stats.median([b.mad for b in base])
        lo_base, hi_base = _ts(base[-1].start), _ts(base[0].end + timedelta(days=1))
        count_sql = (
            "select count(*) filter (where abs(ln(amount_reporting) - ?) / ? >= ?), count(*) "
            "from marts.fct_deals where outcome = 'won' and amount_reporting > 0 "
            "and closed_at >= ? and closed_at < ?"
        )
        x, n = con.execute(count_sql, [m0, sd0, AMOUNT_OUTLIER_Z, lo_win, hi_win]).fetchone()
        x0, n0 = con.execute(count_sql, [m0, sd0, AMOUNT_OUTLIER_Z, lo_base, hi_base]).fetchone()
        z = stats.two_proportion_z(x, n, x0, n0)
        rel = stats.relative_change(x / n if n else None, x0 / n0 if n0 else None)
        flag = x >= MIN_OUTLIERS and stats.passes_two_gates(
            z, rel, n, direction="spike", z_threshold=Z_THRESHOLD, min_relative_change=MIN_RELATIVE_CHANGE, min_n=MIN_N
        )
        res = {
            "window_start": lo_win.date().isoformat(),
            "window_end": as_of_date.isoformat(),
            "outliers": x,
            "n": n,
            "value": _r(x / n if n else None),
            "baseline": _r(x0 / n0 if n0 else None),
            "baseline_outliers": x0,
            "baseline_n": n0,
            "z": _r(z, 2),
            "relative_change": _r(rel, 3),
            "baseline_median_amount": _r(math.exp(m0), 2),
            "robust_sd_log": _r(sd0, 3),
            "outlier_rule": f"|ln(amount) - ln(median)| >= {AMOUNT_OUTLIER_Z} x 1.4826 MAD",
            "flagged": flag,
        }
        res["sample_ids"] = (
            _sample(
                con,
                "select deal_id from marts.fct_deals where outcome = 'won' and amount_reporting > 0 "
                "and closed_at >= ? and closed_at < ? and abs(ln(amount_reporting) - ?) / ? >= ? "
                "order by abs(ln(amount_reporting) - ?) desc",
                [lo_win, hi_win, m0, sd0, AMOUNT_OUTLIER_Z, m0],
            )
            if x
            else []
        )
        findings["amount_outliers"] = res
        if flag:
            flagged.append("amount_outliers")
    headline = "; ".join(
        f"{s}: {findings[s]['value']:.1%} of won deals in the last 14 days vs {findings[s]['baseline']:.1%} before "
        f"(z={findings[s]['z']})"
        for s in flagged
    )
    return _outcome("won_amount_sanity", findings, flagged, headline)


def _now() -> datetime:
    """The wall clock (UTC, naive like `_loaded_at`); only raw_load_freshness reads it."""
    return datetime.now(UTC).replace(tzinfo=None)


def raw_load_freshness(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:  # noqa: ARG001
    """Newest `_loaded_at` of every raw_<source> schema vs the wall clock (the one check that
    reads the clock: freshness is about now, not about as_of_date)."""
    tables = con.execute(
        "select c.table_schema, c.table_name from information_schema.columns c where c.column_name = '_loaded_at' "
        "and c.table_schema like 'raw\\_%' escape '\\' and c.table_name not like '\\_%' escape '\\' order by 1, 2"
    ).fetchall()
    now = _now()
    newest: dict[str, datetime | None] = {}
    for schema, table in tables:
        (ts,) = con.execute(f'select max(_loaded_at) from "{schema}"."{table}"').fetchone()
        if ts is not None and (newest.get(schema) is None or ts > newest[schema]):
            newest[schema] = ts
        newest.setdefault(schema, None)
    findings, flagged = {}, []
    for schema, ts in sorted(newest.items()):
        if ts is None:
            findings[schema] = {"flagged": False, "note": "nothing loaded (source not configured)"}
            continue
        age = now - ts
        flag = age > FRESHNESS_MAX_AGE
        findings[schema] = {
            "newest_load": ts.isoformat(timespec="seconds"),
            "age_hours": _r(age.total_seconds() / 3600, 1),
            "max_age_hours": FRESHNESS_MAX_AGE.total_seconds() / 3600,
            "flagged": flag,
        }
        if flag:
            flagged.append(schema)
    headline = "; ".join(
        f"{s}: newest load {findings[s]['newest_load']} UTC, {findings[s]['age_hours']} h ago" for s in flagged
    )
    return _outcome("raw_load_freshness", findings, flagged, headline, checked_at=now.isoformat(timespec="seconds"))


STRUCTURAL_QUERIES = {
    "history_before_creation": (
        "select distinct deal_id from intermediate.int_deal_stage_changes_unioned where changed_at < deal_created_at"
    ),
    "history_after_load": (
        "select distinct 'hubspot:' || c.deal_id from staging.stg_hubspot__deal_property_changes c "
        "join raw_hubspot.deal_property_history r on r.deal_id = c.deal_id and r.property = c.property_name "
        "and r.history_index = c.api_history_index where c.changed_at > r._loaded_at + interval 1 hour"
    ),
    "visits_out_of_order": (
        "select distinct deal_id from intermediate.int_deal_stage_visits_collapsed where exited_at < entered_at"
    ),
    "unmapped_stages": (
        "select distinct deal_id from intermediate.int_deal_stage_visits_collapsed where funnel_step is null"
    ),
}


def structural_integrity(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:  # noqa: ARG001
    """The blocking dbt tests' faults, for callers outside Dagster (in Dagster the dbt tests are
    the blocking checks): history before creation or later than its load, visits out of order,
    unmapped stages."""
    findings, flagged = {}, []
    for name, sql in STRUCTURAL_QUERIES.items():
        ids = [r[0] for r in con.execute(sql).fetchall()]
        findings[name] = {"deals": len(ids), "sample_ids": sorted(ids)[:SAMPLE_SIZE], "flagged": bool(ids)}
        if ids:
            flagged.append(name)
    headline = "; ".join(f"{s}: {findings[s]['deals']} deals" for s in flagged)
    return _outcome("structural_integrity", findings, flagged, headline)


# ------------------------------------------------------------------ registry

_SPEC_LIST = [
    CheckSpec(
        "stage_conversion_drop",
        "mart_stage_conversion_monthly",
        "WARN",
        "Share of a step's weekly entry cohort reaching the next step within 28 days: the latest 2 mature "
        "cohorts vs the trailing 12 mature unflagged cohorts (two-proportion z, drops only).",
        stage_conversion_drop,
    ),
    CheckSpec(
        "lead_volume_anomaly",
        "mart_lead_volume_daily",
        "WARN",
        "New leads per channel over the last 7 days vs the same weekdays of the previous 8 weeks "
        "(quasi-Poisson z, drops and spikes).",
        lead_volume_anomaly,
    ),
    CheckSpec(
        "stage_dwell_spike",
        "fct_deal_stage_history",
        "WARN",
        "Median time in step of visits that left it in the last 14 days vs the trailing 12 weeks of exits "
        "(robust z on log dwell).",
        stage_dwell_spike,
    ),
    CheckSpec(
        "stuck_deals",
        "fct_deal_stage_history",
        "WARN",
        "Share of the deals that entered a step 2-4 x its trailing p90 of completed visits ago and are still "
        "in it, vs that share in weekly snapshots 9-26 weeks back (z on the share).",
        stuck_deals,
    ),
    CheckSpec(
        "skip_rate_jump",
        "fct_deal_stage_history",
        "WARN",
        "Share of stage changes that skip a step, last 14 days vs the trailing 12 weeks (two-proportion z).",
        skip_rate_jump,
    ),
    CheckSpec(
        "regression_rate_jump",
        "fct_deal_stage_history",
        "WARN",
        "Share of stage changes that move a deal back, last 14 days vs the trailing 12 weeks (two-proportion z).",
        regression_rate_jump,
    ),
    CheckSpec(
        "transition_burst",
        "fct_deal_stage_history",
        "WARN",
        "Stage changes per day into each step and deals changing stage 3+ times a day, each of the last "
        "7 days vs the previous 8 weeks (quasi-Poisson z; bulk edits, re-imports).",
        transition_burst,
    ),
    CheckSpec(
        "won_amount_sanity",
        "fct_deals",
        "WARN",
        "Won deals of the last 14 days: share with a null or zero amount, and share of log-amount outliers, "
        "each vs the trailing 12 weeks (two-proportion z).",
        won_amount_sanity,
    ),
    CheckSpec(
        "raw_load_freshness",
        "raw_hubspot.deals",
        "WARN",
        "Newest raw load of every configured source vs the wall clock (stale after 36 h).",
        raw_load_freshness,
    ),
    CheckSpec(
        "structural_integrity",
        "int_deal_stage_visits_collapsed",
        "ERROR",
        "Stage history before the deal's creation or later than its load, visits out of order, unmapped "
        "stages (mirrors the blocking dbt tests).",
        structural_integrity,
    ),
]
_SPECS = {s.name: s for s in _SPEC_LIST}
CHECKS: dict[str, CheckSpec] = dict(_SPECS)


def run_check(con: duckdb.DuckDBPyConnection, as_of_date: date, name: str) -> CheckOutcome:
    spec = CHECKS[name]
    try:
        return spec.fn(con, as_of_date)
    except Exception as exc:  # a check that cannot run is reported, never silently passed
        return CheckOutcome(
            spec.name,
            spec.asset,
            spec.severity,
            False,
            f"{spec.description} Could not run: {type(exc).__name__}: {exc}",
            {"error": f"{type(exc).__name__}: {exc}"},
        )


def run_all(con: duckdb.DuckDBPyConnection, as_of_date: date, names: Iterable[str] | None = None) -> list[CheckOutcome]:
    """Run every registered check (or ``names``) as of ``as_of_date``, in registry order."""
    wanted = list(CHECKS) if names is None else list(names)
    return [run_check(con, as_of_date, name) for name in wanted]


__all__ = ["CHECKS", "CheckOutcome", "CheckSpec", "run_all", "run_check"]
