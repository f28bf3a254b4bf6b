"""`stage_dwell_spike`: median time in step of the visits that left it in the last 14 days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb

from core.funnel import STEP_ORDER
from warehouse.anomaly import stats
from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec, load_history, outcome, sample, ts, window
from warehouse.anomaly.checks.decide import median_shift, screen_weekly
from warehouse.anomaly.thresholds import BASELINE_BUCKETS, MIN_BASELINE_BUCKETS, RATE_WINDOW_WEEKS


def stage_dwell_spike(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    history = load_history(con, "dwell_log_days", as_of_date)
    findings: dict[str, dict[str, Any]] = {}
    flagged: list[str] = []
    window_idx = list(range(RATE_WINDOW_WEEKS))
    for step in sorted(history, key=lambda s: STEP_ORDER.get(s, 9)):
        series = {i: b for i, b in history[step].items() if b.n > 0 and b.value is not None and b.mad}
        if any(i not in series for i in window_idx):
            findings[step] = {"flagged": False, "note": "no completed visits in the window"}
            continue
        hist = sorted(i for i in series if i >= RATE_WINDOW_WEEKS)
        flagged_hist = screen_weekly(series, hist, lambda b, base: median_shift([b], base)[0])
        base_idx = stats.trailing_baseline(hist, flagged_hist, BASELINE_BUCKETS)
        win = [series[i] for i in window_idx]
        if len(base_idx) < MIN_BASELINE_BUCKETS:
            findings[step] = {"flagged": False, "note": "not enough baseline weeks", **window(win)}
            continue
        base = [series[i] for i in base_idx]
        flag, res = median_shift(win, base)
        res.update(
            window(win),
            baseline_start=min(b.start for b in base).isoformat(),
            baseline_end=max(b.end for b in base).isoformat(),
            baseline_weeks=len(base),
            excluded_flagged_weeks=sorted(series[i].end.isoformat() for i in flagged_hist),
            flagged=flag,
        )
        findings[step] = res
        if flag:
            flagged.append(step)
            res["sample_ids"] = sample(
                con,
                "select deal_id from marts.fct_deal_stage_history where funnel_step = ? and exited_at >= ? "
                "and exited_at < ? order by dwell_days desc",
                [step, ts(win[-1].start), ts(win[0].end + timedelta(days=1))],
            )
    headline = "; ".join(
        f"{s}: median dwell {findings[s]['value_days']:.1f} days for visits that left it in the last 14 days vs "
        f"{findings[s]['baseline_days']:.1f} days before ({findings[s]['relative_change']:+.0%}, robust z="
        f"{findings[s]['z']})"
        for s in flagged
    )
    return outcome(SPEC, findings, flagged, headline)


SPEC = CheckSpec(
    "stage_dwell_spike",
    "fct_deal_stage_history",
    "WARN",
    f"Median time in step of visits that left it in the last 14 days vs the trailing {BASELINE_BUCKETS} weeks of "
    "exits (robust z on log dwell).",
    stage_dwell_spike,
)
