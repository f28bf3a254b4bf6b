"""`stage_dwell_spike`: exits from each open step per deal-day at risk, age by age, in the last 4
weeks vs the 26 weeks before (a log-rank-type test of the window's visits against the baseline's
exit rates by time in the step). Censoring-aware: open visits count for the days they have sat
there, so a slowdown shows while the deals are still sitting there
(docs/checks.md#stage_dwell_spike)."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import numpy as np

from core.funnel import OPEN_DEAL_STEPS
from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec, decide_family, exact_outcome
from warehouse.anomaly.checks.visits import end_of, exit_rate_test, load_visits, to_datetime, usual_dwell
from warehouse.anomaly.thresholds import (
    ALPHA,
    DWELL_WINDOW_DAYS,
    EXPOSURE_BASELINE_DAYS,
    NOT_ENOUGH_DATA,
    SAMPLE_SIZE,
    STUCK_MULTIPLE,
)

AGE_BANDS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, STUCK_MULTIPLE)
"""Age bands of the exit rates, in multiples of the step's usual dwell (finer where most exits
happen); past the last one a visit is the stuck check's."""


def stage_dwell_spike(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    visits = load_visits(con)
    end = end_of(as_of_date)
    w_lo = end - DWELL_WINDOW_DAYS
    findings: dict[str, dict[str, Any]] = {}
    for step in OPEN_DEAL_STEPS:
        v = visits.of_step(step)
        median = usual_dwell(v, w_lo, EXPOSURE_BASELINE_DAYS)
        base = {
            "segment": step,
            "window_start": to_datetime(w_lo).date().isoformat(),
            "window_end": as_of_date.isoformat(),
        }
        if median is None or median <= 0:
            findings[step] = {**base, "p": 1.0, "min_p": 1.0, "note": "no usual dwell (too few completed visits)"}
            continue
        res = exit_rate_test(v, end, DWELL_WINDOW_DAYS, EXPOSURE_BASELINE_DAYS, median * np.asarray(AGE_BANDS))
        reach = v.entered + median
        slow = (reach >= w_lo) & (reach < end) & (np.isnan(v.exited) | (v.exited - v.entered > median))
        order = np.argsort(v.entered[slow])
        findings[step] = {
            **base,
            **res,
            "usual_dwell_days": median,
            "n": int(res["exits"]),
            "still_there_past_usual_dwell": int(slow.sum()),
            "unit": "exits per deal-day at risk relative to the baseline's, age by age (1 = usual pace)",
            "sample_ids": [str(d) for d in v.deal_id[slow][order][:SAMPLE_SIZE]],
        }
    flagged = decide_family(findings, ALPHA)
    for f in findings.values():
        if f["status"] != "flagged":
            f["sample_ids"] = []
        if "note" in f:
            f["status"] = NOT_ENOUGH_DATA
    headline = "; ".join(
        f"{s}: {findings[s]['exits']:.0f} visits left it in the last {DWELL_WINDOW_DAYS} days vs "
        f"{findings[s]['expected_exits']:.1f} expected at the usual pace ({findings[s]['value']:.0%} of it; "
        f"usual dwell {findings[s]['usual_dwell_days']:.1f} days, {findings[s]['still_there_past_usual_dwell']} "
        f"deals still there past it; p={findings[s]['p']:.1e}, Holm p={findings[s]['p_adjusted']:.1e})"
        for s in flagged
    )
    return exact_outcome(SPEC, findings, flagged, headline, ALPHA)


SPEC = CheckSpec(
    "stage_dwell_spike",
    "fct_deal_stage_history",
    "WARN",
    f"Exits from each open step per deal-day at risk, by time in the step (up to {STUCK_MULTIPLE:g} x its usual "
    f"Kaplan-Meier median dwell), open visits included, in the last {DWELL_WINDOW_DAYS} days vs the rates of the "
    f"{EXPOSURE_BASELINE_DAYS} days before (log-rank-type: observed vs expected exits, exact conditional Poisson "
    f"test, quasi-Poisson dispersion, Holm across steps, alpha {ALPHA}).",
    stage_dwell_spike,
)
