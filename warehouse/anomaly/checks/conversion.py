"""`stage_conversion_drop`: weekly entry cohorts of each step converting to the next one."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb

from core.funnel import NEXT_STEP, STEP_ORDER
from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec, load_history, outcome, sample, ts
from warehouse.anomaly.checks.decide import test_proportion
from warehouse.anomaly.thresholds import (
    BASELINE_BUCKETS,
    CONVERSION_MATURITY_DAYS,
    MIN_BASELINE_BUCKETS,
    TEST_COHORTS,
)


def stage_conversion_drop(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    history = load_history(con, "stage_conversion", as_of_date)
    findings: dict[str, dict[str, Any]] = {}
    flagged: list[str] = []
    for seg in sorted(history, key=lambda s: STEP_ORDER.get(s, 9)):
        series = history[seg]
        mature = sorted(i for i, b in series.items() if b.complete)
        if len(mature) < TEST_COHORTS + MIN_BASELINE_BUCKETS:
            findings[seg] = {"flagged": False, "note": "not enough mature cohorts"}
            continue
        window_idx, hist = mature[:TEST_COHORTS], mature[TEST_COHORTS:]
        res = test_proportion(series, window_idx, hist, "drop")
        res["step"] = f"{seg} → {NEXT_STEP.get(seg, '?')}"
        findings[seg] = res
        if res["flagged"]:
            flagged.append(seg)
            res["sample_ids"] = _unconverted_sample(con, seg, series[window_idx[-1]].start, series[window_idx[0]].end)
    headline = "; ".join(
        f"{findings[s]['step']}: {findings[s]['value']:.1%} of {findings[s]['n']} cohort members converted within "
        f"{CONVERSION_MATURITY_DAYS} days vs {findings[s]['baseline']:.1%} in the baseline cohorts (z={findings[s]['z']})"
        for s in flagged
    )
    return outcome(SPEC, findings, flagged, headline)


def _unconverted_sample(con: duckdb.DuckDBPyConnection, step: str, start: date, end: date) -> list[str]:
    lo, hi = ts(start), ts(end + timedelta(days=1))
    if step == "lead":
        return sample(
            con,
            "select l.lead_id from intermediate.int_leads_unioned l where l.created_at >= ? "
            "and l.created_at < ? and not exists (select 1 from intermediate.int_deal_contacts_unioned c "
            "where c.lead_id = l.lead_id) order by l.created_at",
            [lo, hi],
        )
    col, nxt = f"first_{step}_at", f"first_{NEXT_STEP[step]}_at"
    return sample(
        con,
        f"select deal_id from marts.fct_deals where {col} >= ? and {col} < ? and ({nxt} is null "
        f"or {nxt} >= {col} + interval {CONVERSION_MATURITY_DAYS} day) order by {col}",
        [lo, hi],
    )


SPEC = CheckSpec(
    "stage_conversion_drop",
    "mart_stage_conversion_monthly",
    "WARN",
    f"Share of a step's weekly entry cohort reaching the next step within {CONVERSION_MATURITY_DAYS} days: the "
    f"latest {TEST_COHORTS} mature cohorts vs the trailing {BASELINE_BUCKETS} mature unflagged cohorts "
    "(two-proportion z, drops only).",
    stage_conversion_drop,
)
