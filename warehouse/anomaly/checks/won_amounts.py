"""`won_amount_sanity`: won deals without an amount, and won amounts far from the usual ones."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import duckdb

from warehouse.anomaly import stats
from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec, known, load_history, outcome, r, sample, ts
from warehouse.anomaly.checks.decide import test_proportion
from warehouse.anomaly.thresholds import (
    AMOUNT_OUTLIER_Z,
    BASELINE_BUCKETS,
    MIN_BASELINE_BUCKETS,
    MIN_N,
    MIN_OUTLIERS,
    MIN_RELATIVE_CHANGE,
    RATE_WINDOW_WEEKS,
    Z_THRESHOLD,
)
from warehouse.db import fetch_one

_OUTLIER_COUNT_SQL = (
    "select count(*) filter (where abs(ln(amount_reporting) - ?) / ? >= ?), count(*) "
    "from marts.fct_deals where outcome = 'won' and amount_reporting > 0 "
    "and closed_at >= ? and closed_at < ?"
)


def outlier_share_test(x: int, n: int, x0: int, n0: int) -> tuple[bool, dict[str, Any]]:
    """Share of outliers in the window vs the baseline weeks (pure)."""
    z = stats.two_proportion_z(x, n, x0, n0)
    rel = stats.relative_change(x / n if n else None, x0 / n0 if n0 else None)
    flag = x >= MIN_OUTLIERS and stats.passes_two_gates(
        z, rel, n, direction="spike", z_threshold=Z_THRESHOLD, min_relative_change=MIN_RELATIVE_CHANGE, min_n=MIN_N
    )
    return flag, {"z": r(z, 2), "relative_change": r(rel, 3)}


def won_amount_sanity(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    findings: dict[str, dict[str, Any]] = {}
    flagged: list[str] = []
    window_idx = list(range(RATE_WINDOW_WEEKS))
    missing = load_history(con, "won_missing_amount", as_of_date).get("all", {})
    lo_win = ts(as_of_date - timedelta(days=7 * RATE_WINDOW_WEEKS - 1))
    hi_win = ts(as_of_date + timedelta(days=1))
    if missing:
        res = test_proportion(missing, window_idx, sorted(i for i in missing if i >= RATE_WINDOW_WEEKS), "spike")
        findings["missing_amount"] = res
        if res["flagged"]:
            flagged.append("missing_amount")
            res["sample_ids"] = sample(
                con,
                "select deal_id from marts.fct_deals where outcome = 'won' and closed_at >= ? and closed_at < ? "
                "and coalesce(amount_reporting, 0) = 0 order by closed_at",
                [lo_win, hi_win],
            )
    amounts = load_history(con, "won_log_amount", as_of_date).get("all", {})
    base = [
        amounts[i]
        for i in sorted(amounts)
        if i >= RATE_WINDOW_WEEKS and i < RATE_WINDOW_WEEKS + BASELINE_BUCKETS and amounts[i].n > 0 and amounts[i].mad
    ]
    if len(base) >= MIN_BASELINE_BUCKETS:
        m0 = known(stats.median([b.value for b in base]))
        sd0 = stats.MAD_TO_SD * known(stats.median([b.mad for b in base]))
        lo_base, hi_base = ts(base[-1].start), ts(base[0].end + timedelta(days=1))
        x, n = fetch_one(con, _OUTLIER_COUNT_SQL, [m0, sd0, AMOUNT_OUTLIER_Z, lo_win, hi_win])
        x0, n0 = fetch_one(con, _OUTLIER_COUNT_SQL, [m0, sd0, AMOUNT_OUTLIER_Z, lo_base, hi_base])
        flag, stat = outlier_share_test(x, n, x0, n0)
        res = {
            "window_start": lo_win.date().isoformat(),
            "window_end": as_of_date.isoformat(),
            "outliers": x,
            "n": n,
            "value": r(x / n if n else None),
            "baseline": r(x0 / n0 if n0 else None),
            "baseline_outliers": x0,
            "baseline_n": n0,
            **stat,
            "baseline_median_amount": r(math.exp(m0), 2),
            "robust_sd_log": r(sd0, 3),
            "outlier_rule": f"|ln(amount) - ln(median)| >= {AMOUNT_OUTLIER_Z} x 1.4826 MAD",
            "flagged": flag,
        }
        res["sample_ids"] = (
            sample(
                con,
                "select deal_id from marts.fct_deals where outcome = 'won' and amount_reporting > 0 "
                "and closed_at >= ? and closed_at < ? and abs(ln(amount_reporting) - ?) / ? >= ? "
                "order by abs(ln(amount_reporting) - ?) desc",
                [lo_win, hi_win, m0, sd0, AMOUNT_OUTLIER_Z, m0],
            )
            if x
            else []
        )
        findings["amount_outliers"] = res
        if flag:
            flagged.append("amount_outliers")
    headline = "; ".join(
        f"{s}: {findings[s]['value']:.1%} of won deals in the last 14 days vs {findings[s]['baseline']:.1%} before "
        f"(z={findings[s]['z']})"
        for s in flagged
    )
    return outcome(SPEC, findings, flagged, headline)


SPEC = CheckSpec(
    "won_amount_sanity",
    "fct_deals",
    "WARN",
    "Won deals of the last 14 days: share with a null or zero amount, and share of log-amount outliers, "
    f"each vs the trailing {BASELINE_BUCKETS} weeks (two-proportion z).",
    won_amount_sanity,
)
