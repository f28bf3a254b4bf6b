"""`stage_dwell_spike`: of the visits that reached a step's usual (median) dwell in the last 4
weeks, the share still in the step, open visits included, vs the 26 weeks before. Censoring-aware:
a slowdown shows while the deals are still sitting there (docs/checks.md#stage_dwell_spike)."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import numpy as np

from core.funnel import OPEN_DEAL_STEPS
from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec, decide_family, exact_outcome
from warehouse.anomaly.checks.visits import end_of, load_visits, share_test, to_datetime, usual_dwell
from warehouse.anomaly.thresholds import (
    ALPHA,
    DWELL_WINDOW_DAYS,
    EXPOSURE_BASELINE_DAYS,
    NOT_ENOUGH_DATA,
    SAMPLE_SIZE,
)


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
        res = share_test(v, median, (w_lo, end), EXPOSURE_BASELINE_DAYS)
        reach = v.entered + median
        slow = (reach >= w_lo) & (reach < end) & (np.isnan(v.exited) | (v.exited - v.entered > median))
        order = np.argsort(v.entered[slow])
        findings[step] = {
            **base,
            **res,
            "usual_dwell_days": median,
            "unit": f"share of visits still in the step after {median:.1f} days (its usual median dwell)",
            "sample_ids": [str(d) for d in v.deal_id[slow][order][:SAMPLE_SIZE]],
        }
    flagged = decide_family(findings, ALPHA)
    for f in findings.values():
        if f["status"] != "flagged":
            f["sample_ids"] = []
        if "note" in f:
            f["status"] = NOT_ENOUGH_DATA
    headline = "; ".join(
        f"{s}: {findings[s]['x']} of the {findings[s]['n']} visits that reached {findings[s]['usual_dwell_days']:.1f} "
        f"days in it in the last {DWELL_WINDOW_DAYS} days were still there ({findings[s]['value']:.0%}) vs "
        f"{findings[s]['baseline']:.0%} before (p={findings[s]['p']:.1e}, Holm p={findings[s]['p_adjusted']:.1e})"
        for s in flagged
    )
    return exact_outcome(SPEC, findings, flagged, headline, ALPHA)


SPEC = CheckSpec(
    "stage_dwell_spike",
    "fct_deal_stage_history",
    "WARN",
    f"Share of visits still in a step when they reach its usual (Kaplan-Meier median) dwell, open visits "
    f"included, for visits reaching it in the last {DWELL_WINDOW_DAYS} days vs the {EXPOSURE_BASELINE_DAYS} days "
    f"before (exact binomial tail, quasi-binomial dispersion, Holm across steps, alpha {ALPHA}).",
    stage_dwell_spike,
)
