"""`transition_burst`: stage changes per day into each step and deals changing stage 3+ times in a
day (bulk edits, re-imports), each of the last 7 days vs the same weekday of the 12 weeks before
(docs/checks.md#transition_burst)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np

from core.funnel import STEP_ORDER
from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec, decide_family, exact_outcome
from warehouse.anomaly.checks.visits import burst_p, daily_counts, end_of, flapping_deals_per_day, load_visits
from warehouse.anomaly.thresholds import (
    ALPHA,
    BURST_BASELINE_WEEKS,
    FLAP_CHANGES_PER_DAY,
    MIN_BURST_DEALS,
    SAMPLE_SIZE,
)

_DAYS = 7 * (BURST_BASELINE_WEEKS + 1)


def transition_burst(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    visits = load_visits(con)
    end = end_of(as_of_date)
    series: dict[str, np.ndarray] = {"flapping_deals": flapping_deals_per_day(visits, end, _DAYS, FLAP_CHANGES_PER_DAY)}
    changes = visits.visit_number > 1
    for step in sorted(set(visits.step[changes]), key=lambda s: STEP_ORDER.get(s, 9)):
        series[f"to:{step}"] = daily_counts(visits.entered[changes & (visits.step == step)], end, _DAYS)
    findings: dict[str, dict[str, Any]] = {}
    for seg, counts in series.items():
        for day in range(7):
            p, mu, phi = burst_p(counts, day, BURST_BASELINE_WEEKS)
            floor = MIN_BURST_DEALS if seg == "flapping_deals" else 0
            findings[f"{seg}@{day}"] = {
                "segment": seg,
                "day": (as_of_date - timedelta(days=day)).isoformat(),
                "value": float(counts[day]),
                "baseline": mu,
                "n": float(counts[day]),
                "dispersion": phi,
                "p": p if counts[day] >= floor else 1.0,
                "min_p": 0.0,  # a burst can always be seen
            }
    flagged = decide_family(findings, ALPHA)
    sample_ids: list[str] = []
    for key in flagged:
        burst_day = as_of_date - timedelta(days=int(key.split("@")[1]))
        lo = float((burst_day - date(1970, 1, 1)).days)
        m = changes & (visits.entered >= lo) & (visits.entered < lo + 1)
        ids, counts_ = np.unique(visits.deal_id[m].astype(str), return_counts=True)
        sample_ids += [str(i) for i in ids[np.argsort(-counts_, kind="stable")] if str(i) not in sample_ids]
    for f in findings.values():
        f["window_start"] = f["window_end"] = f["day"]
    shown = {k: v for k, v in findings.items() if v["flagged"] or k.endswith("@0")}
    headline = "; ".join(
        f"{findings[k]['segment']} on {findings[k]['day']}: {findings[k]['value']:.0f} vs {findings[k]['baseline']:.1f} "
        f"expected (p={findings[k]['p']:.1e})"
        for k in flagged
    )
    out = exact_outcome(BURST_SPEC, shown, flagged, headline, ALPHA)
    out.metadata["sample_ids"] = sample_ids[:SAMPLE_SIZE]
    return out


BURST_SPEC = CheckSpec(
    "transition_burst",
    "fct_deal_stage_history",
    "WARN",
    f"Stage changes per day into each step and deals changing stage {FLAP_CHANGES_PER_DAY}+ times a day, each of "
    f"the last 7 days vs the same weekday of the previous {BURST_BASELINE_WEEKS} weeks (negative binomial tail, "
    f"Holm, alpha {ALPHA}; a flapping day needs {MIN_BURST_DEALS}+ deals).",
    transition_burst,
)
