"""`stuck_deals`: open deals sitting in a step past 5 × its usual (median) dwell, with no upper
bound (the oldest are the ones to chase). Tested as the share of visits that crossed that age in
the last 8 weeks and were still there, vs the 26 weeks before (docs/checks.md#stuck_deals)."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import numpy as np

from core.funnel import OPEN_DEAL_STEPS
from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec, decide_family, exact_outcome
from warehouse.anomaly.checks.visits import Visits, end_of, load_visits, share_test, to_datetime, usual_dwell
from warehouse.anomaly.thresholds import (
    ALPHA,
    DWELL_WINDOW_DAYS,
    EXPOSURE_BASELINE_DAYS,
    SAMPLE_SIZE,
    STUCK_MULTIPLE,
    STUCK_WINDOW_DAYS,
)


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


def stuck_deals(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    visits = load_visits(con)
    end = end_of(as_of_date)
    w_lo = end - STUCK_WINDOW_DAYS
    findings: dict[str, dict[str, Any]] = {}
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
        res = share_test(v, age, (w_lo, end), EXPOSURE_BASELINE_DAYS)
        open_age = end - v.entered
        stuck = np.isnan(v.exited) & (open_age > age)
        order = np.argsort(v.entered[stuck])  # oldest first
        findings[step] = {
            **base,
            **res,
            "usual_dwell_days": median,
            "stuck_after_days": age,
            "open_stuck_now": int(stuck.sum()),
            "oldest_stuck_days": float(open_age[stuck].max()) if stuck.any() else None,
            "unit": f"share of visits still in the step {age:.0f} days ({STUCK_MULTIPLE:g} x usual dwell) after entry",
            "sample_ids": [str(d) for d in v.deal_id[stuck][order][:SAMPLE_SIZE]],
        }
    flagged = decide_family(findings, ALPHA)
    headline = "; ".join(
        f"{s}: {findings[s]['x']} of the {findings[s]['n']} deals that reached {findings[s]['stuck_after_days']:.0f} "
        f"days in it in the last {STUCK_WINDOW_DAYS} days are still there ({findings[s]['value']:.0%} vs "
        f"{findings[s]['baseline']:.0%} before, p={findings[s]['p']:.1e}); {findings[s]['open_stuck_now']} open deals "
        f"are past {findings[s]['stuck_after_days']:.0f} days in total"
        for s in flagged
    )
    return exact_outcome(SPEC, findings, flagged, headline, ALPHA)


SPEC = CheckSpec(
    "stuck_deals",
    "fct_deal_stage_history",
    "WARN",
    f"Open deals in a step past {STUCK_MULTIPLE:g} x its usual (Kaplan-Meier median) dwell, no upper bound (listed "
    f"oldest first); tested as the share still there among the visits crossing that age in the last "
    f"{STUCK_WINDOW_DAYS} days vs the {EXPOSURE_BASELINE_DAYS} days before (exact binomial tail, Holm, alpha {ALPHA}).",
    stuck_deals,
)
