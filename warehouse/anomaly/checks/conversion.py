"""`stage_conversion_drop`: advances (and losses) per deal-day at risk in each open step over the
last 5 weeks vs the 26 weeks before. Measured on exposure, so a collapse shows while it happens,
not once the entry cohorts have matured (docs/checks.md#stage_conversion_drop)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import duckdb

from core.funnel import NEXT_STEP, OPEN_DEAL_STEPS
from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec, decide_family, exact_outcome
from warehouse.anomaly.checks.visits import (
    end_of,
    is_advance,
    is_loss,
    load_visits,
    rate_test,
    to_datetime,
    usual_dwell,
)
from warehouse.anomaly.thresholds import (
    ALPHA,
    CONVERSION_WINDOW_DAYS,
    EXPOSURE_BASELINE_DAYS,
    SAMPLE_SIZE,
    STUCK_MULTIPLE,
)


def stage_conversion_drop(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    visits = load_visits(con)
    end = end_of(as_of_date)
    w_lo = end - CONVERSION_WINDOW_DAYS
    findings: dict[str, dict[str, Any]] = {}
    for step in OPEN_DEAL_STEPS:
        v = visits.of_step(step)
        median = usual_dwell(v, w_lo, EXPOSURE_BASELINE_DAYS)
        max_age = STUCK_MULTIPLE * median if median else math.inf
        adv, loss = is_advance(step, v.next_step), is_loss(v.next_step)
        for kind, mask, direction in (("advances", adv, "drop"), ("losses", loss, "spike")):
            res = rate_test(v, mask, end, CONVERSION_WINDOW_DAYS, EXPOSURE_BASELINE_DAYS, direction, max_age)
            res |= {
                "segment": f"{step} {kind}",
                "step": f"{step} → {NEXT_STEP.get(step, '?')}" if kind == "advances" else f"{step} → lost",
                "window_start": to_datetime(w_lo).date().isoformat(),
                "window_end": as_of_date.isoformat(),
                "n": res["events"],
                "unit": "events per deal-day at risk",
                "at_risk_up_to_days": max_age,
            }
            if direction == "drop":  # deals still in the step that entered during the window
                open_now = v.deal_id[(v.entered >= w_lo) & (v.exited != v.exited)]
                res["sample_ids"] = [str(d) for d in open_now[:SAMPLE_SIZE]]
            else:
                lost = v.deal_id[loss & (v.exited >= w_lo)]
                res["sample_ids"] = [str(d) for d in lost[:SAMPLE_SIZE]]
            findings[f"{step}:{kind}"] = res
    flagged = decide_family(findings, ALPHA)
    for k in findings:
        if not findings[k]["flagged"]:
            findings[k]["sample_ids"] = []
    headline = "; ".join(
        f"{findings[k]['step']}: {findings[k]['events']} in the last {CONVERSION_WINDOW_DAYS} days over "
        f"{findings[k]['exposure_days']:.0f} deal-days at risk vs {findings[k]['expected']:.1f} expected at the "
        f"baseline rate (p={findings[k]['p']:.1e}, Holm p={findings[k]['p_adjusted']:.1e})"
        for k in flagged
    )
    return exact_outcome(SPEC, findings, flagged, headline, ALPHA)


SPEC = CheckSpec(
    "stage_conversion_drop",
    "fct_deal_stage_history",
    "WARN",
    f"Advances to a later step (drops) and losses (spikes) per deal-day at risk in each open step (up to {STUCK_MULTIPLE:g} x its usual dwell), the last "
    f"{CONVERSION_WINDOW_DAYS} days vs the {EXPOSURE_BASELINE_DAYS} days before (exact conditional Poisson test, "
    f"quasi-Poisson dispersion, Holm across steps, alpha {ALPHA}).",
    stage_conversion_drop,
)
