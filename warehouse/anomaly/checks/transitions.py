"""Checks over stage changes: `skip_rate_jump`, `regression_rate_jump` (`transition_burst`: burst.py)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb

from warehouse.anomaly.checks.base import (
    CheckOutcome,
    CheckSpec,
    load_history,
    outcome,
    sample,
    ts,
)
from warehouse.anomaly.checks.decide import test_proportion
from warehouse.anomaly.thresholds import (
    BASELINE_BUCKETS,
    RATE_WINDOW_WEEKS,
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
