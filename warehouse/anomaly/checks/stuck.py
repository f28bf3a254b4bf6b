"""`stuck_deals`: open deals sitting in a step past 5 × its usual (median) dwell, with no upper
bound (the oldest are the ones to chase). Three families of the same count, each its own Holm
family (docs/checks.md#stuck_deals): the open deals that became stuck in the last 8 weeks
(`stuck_count`), the same entries week by week (`stuck_weeks`: a batch moved in together) and
owner by owner (`stuck_owners`: a rep's or a team's deals left there)."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import numpy as np

from core.funnel import OPEN_DEAL_STEPS
from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec, decide_family, exact_outcome
from warehouse.anomaly.checks.stuck_count import Span, before_tested_dwell, span_count_test, stuck_span
from warehouse.anomaly.checks.stuck_owners import owner_findings, owners_of
from warehouse.anomaly.checks.stuck_weeks import week_findings
from warehouse.anomaly.checks.visits import Visits, end_of, load_visits, to_datetime
from warehouse.anomaly.thresholds import (
    ALPHA,
    EXPOSURE_BASELINE_DAYS,
    SAMPLE_SIZE,
    STUCK_MULTIPLE,
    STUCK_WINDOW_DAYS,
)


def _step_finding(v: Visits, sp: Span, median: float, age: float, end: float, base: dict[str, Any]) -> dict[str, Any]:
    """The 8-week count of one step, with every open deal past ``age`` listed (oldest first)."""
    res = span_count_test(sp) | {"baseline_n": sp.baseline_n, "pace": sp.pace, "pace_by_half": sp.paces}
    open_age = end - v.entered
    stuck = np.isnan(v.exited) & (open_age > age)
    counted = stuck & (open_age <= age + STUCK_WINDOW_DAYS)  # the tested count's deals
    order = np.argsort(v.entered[stuck])  # oldest first
    return {
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


def _headline(
    findings: dict, flagged: list[str], weeks: dict, week_flagged: list[str], owners: dict, owner_flagged: list[str]
) -> str:
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
    parts += [
        f"owner {owners[k]['owner_id']}'s deals left stuck in {k.split(':')[0]}: {owners[k]['value']} of the "
        f"{owners[k]['n']} they had enter it {owners[k]['entered_from']}..{owners[k]['entered_to']} are still there "
        f"(past {owners[k]['stuck_after_days']:.0f} days), {owners[k]['expected']:.1f} expected (p={owners[k]['p']:.1e})"
        for k in owner_flagged
    ]
    return "; ".join(parts)


def stuck_deals(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    visits = load_visits(con)
    end = end_of(as_of_date)
    w_lo = end - STUCK_WINDOW_DAYS
    window = {"window_start": to_datetime(w_lo).date().isoformat(), "window_end": as_of_date.isoformat()}
    findings: dict[str, dict[str, Any]] = {}
    weeks: dict[str, dict[str, Any]] = {}
    spans = []
    for step in OPEN_DEAL_STEPS:
        v = visits.of_step(step)
        median = before_tested_dwell(v, end)
        base = {"segment": step, **window}
        if median is None or median <= 0:
            findings[step] = {**base, "p": 1.0, "min_p": 1.0, "note": "no usual dwell (too few completed visits)"}
            continue
        age = STUCK_MULTIPLE * median
        sp = stuck_span(v, age, end, STUCK_WINDOW_DAYS, EXPOSURE_BASELINE_DAYS)
        findings[step] = _step_finding(v, sp, median, age, end, base)
        weeks |= week_findings(v, sp, step, age, end, window)
        spans.append((v, sp, step, age))
    by_owner: dict[str, dict[str, Any]] = {}
    if spans:  # only the span's entries need an owner: one join for the three steps
        owner = owners_of(con, np.concatenate([v.deal_id[sp.mask] for v, sp, *_ in spans]))
        cuts = np.cumsum([0, *(int(sp.mask.sum()) for _, sp, *_ in spans)])
        for k, (v, sp, step, age) in enumerate(spans):
            span = {
                "entered_from": to_datetime(end - age - STUCK_WINDOW_DAYS).date().isoformat(),
                "entered_to": to_datetime(end - age).date().isoformat(),
            }
            by_owner |= owner_findings(v, sp, step, age, owner[cuts[k] : cuts[k + 1]], window | span)
    flagged = decide_family(findings, ALPHA)
    week_flagged = decide_family(weeks, ALPHA) if weeks else []
    owner_flagged = decide_family(by_owner, ALPHA) if by_owner else []
    headline = _headline(findings, flagged, weeks, week_flagged, by_owner, owner_flagged)
    return exact_outcome(SPEC, findings | weeks | by_owner, flagged + week_flagged + owner_flagged, headline, ALPHA)


SPEC = CheckSpec(
    "stuck_deals",
    "fct_deal_stage_history",
    "WARN",
    f"Open deals in a step past {STUCK_MULTIPLE:g} x its usual (Kaplan-Meier median) dwell, no upper bound (listed "
    f"oldest first); tested as the count of those that became stuck in the last {STUCK_WINDOW_DAYS} days vs "
    f"the count expected from the same entries under the survival of the {EXPOSURE_BASELINE_DAYS} days of "
    f"entries before, at their own pace (negative-binomial tail: Poisson plus the uncertainty of that expectation; Holm, "
    f"alpha {ALPHA}); and the same count entry week by entry week (a batch moved in together and left there) and "
    f"owner by owner (a rep's or a team's deals left there; the owner of marts.fct_deals), each its own Holm "
    f"family over steps x weeks or steps x owners, alpha {ALPHA}.",
    stuck_deals,
)
