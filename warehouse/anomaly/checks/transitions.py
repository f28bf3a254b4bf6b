"""Checks over stage changes: `skip_rate_jump`, `regression_rate_jump`, `transition_burst`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb

from warehouse.anomaly import stats
from warehouse.anomaly.checks.base import (
    CheckOutcome,
    CheckSpec,
    Series,
    load_history,
    num,
    outcome,
    sample,
    ts,
)
from warehouse.anomaly.checks.decide import count_anomalous, same_weekday_baseline, screen_daily, test_proportion
from warehouse.anomaly.thresholds import (
    BASELINE_BUCKETS,
    FLAP_CHANGES_PER_DAY,
    FLAP_MIN_DEALS,
    MIN_N,
    MIN_SAME_WEEKDAY_WEEKS,
    RATE_WINDOW_WEEKS,
    SAME_WEEKDAY_WEEKS,
    SAMPLE_SIZE,
)


def _rate_jump(
    con: duckdb.DuckDBPyConnection, as_of_date: date, spec: CheckSpec, metric: str, flag_col: str
) -> CheckOutcome:
    history = load_history(con, metric, as_of_date)
    findings: dict[str, dict[str, Any]] = {}
    flagged: list[str] = []
    for seg, series in sorted(history.items()):
        window_idx = list(range(RATE_WINDOW_WEEKS))
        hist = sorted(i for i in series if i >= RATE_WINDOW_WEEKS)
        res = test_proportion(series, window_idx, hist, "spike")
        findings[seg] = res
        if res["flagged"]:
            flagged.append(seg)
            start, end = series[window_idx[-1]].start, series[0].end
            res["sample_ids"] = sample(
                con,
                f"select deal_id from marts.fct_deal_stage_history where {flag_col} and entered_at >= ? "
                "and entered_at < ? group by deal_id order by count(*) desc, deal_id",
                [ts(start), ts(end + timedelta(days=1))],
            )
    what = metric.replace("_rate", "")
    headline = "; ".join(
        f"{findings[s]['value']:.1%} of the {findings[s]['n']} stage changes of the last 14 days were {what}s vs "
        f"{findings[s]['baseline']:.1%} before (z={findings[s]['z']})"
        for s in flagged
    )
    return outcome(spec, findings, flagged, headline)


def skip_rate_jump(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    return _rate_jump(con, as_of_date, SKIP_SPEC, "skip_rate", "is_skip")


def regression_rate_jump(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    return _rate_jump(con, as_of_date, REGRESSION_SPEC, "regression_rate", "is_regression")


def flap_test(flaps: Series, day: int, flagged_days: frozenset[int]) -> tuple[bool, dict[str, Any]]:
    """One day's flapping deals vs every day of the previous 8 weeks (pure)."""
    earlier = [d for d in range(day + 1, day + 1 + 7 * SAME_WEEKDAY_WEEKS) if d in flaps]
    kept = stats.trailing_baseline(earlier, flagged_days, 7 * SAME_WEEKDAY_WEEKS)
    base = [num(flaps[d].value) for d in kept]
    if len(base) < 7 * MIN_SAME_WEEKDAY_WEEKS:
        return False, {}
    return count_anomalous(num(flaps[day].value), [base], "spike", FLAP_MIN_DEALS)


def transition_burst(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    findings: dict[str, dict[str, Any]] = {}
    flagged: list[str] = []
    burst_days: set[date] = set()
    # 1. daily stage changes into each step, each of the last 7 days vs its same weekday
    for step, series in sorted(load_history(con, "transitions", as_of_date).items()):
        screened = screen_daily(series, 7, "both", MIN_N)
        days = []
        for day in range(7):
            base = same_weekday_baseline(series, day, screened)
            if len(base) < MIN_SAME_WEEKDAY_WEEKS:
                continue
            flag, res = count_anomalous(num(series[day].value), [base], "spike", MIN_N)
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
        screened = stats.screen_history(
            sorted((d for d in flaps if d >= 7), reverse=True), lambda d, f: flap_test(flaps, d, f)[0]
        )
        days = []
        for day in range(7):
            flag, res = flap_test(flaps, day, screened)
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
    sample_ids: list[str] = []
    for burst_day in sorted(burst_days, reverse=True):
        sample_ids += sample(
            con,
            "select deal_id from marts.fct_deal_stage_history where visit_number > 1 and "
            "entered_at >= ? and entered_at < ? group by deal_id order by count(*) desc, deal_id",
            [ts(burst_day), ts(burst_day + timedelta(days=1))],
        )
    headline = "; ".join(
        f"{seg} on {d['day']}: {d['value']:.0f} vs {d['baseline']:.1f} expected (z={d['z']})"
        for seg in flagged
        for d in findings[seg]["burst_days"]
    )
    return outcome(BURST_SPEC, findings, flagged, headline, sample_ids=sample_ids[:SAMPLE_SIZE])


SKIP_SPEC = CheckSpec(
    "skip_rate_jump",
    "fct_deal_stage_history",
    "WARN",
    f"Share of stage changes that skip a step, last 14 days vs the trailing {BASELINE_BUCKETS} weeks "
    "(two-proportion z).",
    skip_rate_jump,
)
REGRESSION_SPEC = CheckSpec(
    "regression_rate_jump",
    "fct_deal_stage_history",
    "WARN",
    f"Share of stage changes that move a deal back, last 14 days vs the trailing {BASELINE_BUCKETS} weeks "
    "(two-proportion z).",
    regression_rate_jump,
)
BURST_SPEC = CheckSpec(
    "transition_burst",
    "fct_deal_stage_history",
    "WARN",
    f"Stage changes per day into each step and deals changing stage {FLAP_CHANGES_PER_DAY}+ times a day, each of "
    f"the last 7 days vs the previous {SAME_WEEKDAY_WEEKS} weeks (quasi-Poisson z; bulk edits, re-imports).",
    transition_burst,
)
