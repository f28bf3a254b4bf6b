"""`stuck_deals`: the share of deals still in a step 2-4 × its p90 dwell after entering it."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from core.funnel import STEP_ORDER
from warehouse.anomaly import stats
from warehouse.anomaly.checks.base import Bucket, CheckOutcome, CheckSpec, load_history, num, outcome, r, sample
from warehouse.anomaly.thresholds import (
    MIN_BASELINE_BUCKETS,
    MIN_N,
    MIN_RELATIVE_CHANGE,
    STUCK_BASELINE_SNAPSHOTS,
    STUCK_P90_BAND,
    STUCK_Z_THRESHOLD,
)
from warehouse.db import fetch_one

_BAND = f"{STUCK_P90_BAND[0]:g}-{STUCK_P90_BAND[1]:g} x p90"


def stuck_share_test(now: Bucket, base: list[Bucket]) -> tuple[bool, dict[str, Any]]:
    """The snapshot's stuck share vs the median share of the baseline snapshots (pure)."""
    shares = [num(b.numerator) / num(b.denominator) for b in base]
    p0 = stats.median(shares)
    # Weekly snapshots overlap: a deal stays in the band for up to (4 - 2) x p90 days, so the
    # baseline holds only span / band-width independent snapshots' worth of deals.
    band_days = (STUCK_P90_BAND[1] - STUCK_P90_BAND[0]) * (now.p90 or 1.0)
    span_days = (base[0].end - base[-1].end).days + 7
    independent = min(float(len(base)), max(1.0, span_days / band_days))
    n0 = independent * sum(num(b.denominator) for b in base) / len(base)
    phi = stats.binomial_dispersion([num(b.numerator) for b in base], [num(b.denominator) for b in base])
    x, n = num(now.numerator), num(now.denominator)
    z = stats.two_proportion_z(x, n, (p0 or 0.0) * n0, n0, dispersion=phi)
    rel = stats.relative_change(x / n, p0)
    flag = stats.passes_two_gates(
        z,
        rel,
        n,
        direction="spike",
        z_threshold=STUCK_Z_THRESHOLD,
        min_relative_change=MIN_RELATIVE_CHANGE,
        min_n=MIN_N,
    )
    lo, hi = STUCK_P90_BAND[0] * (now.p90 or 0), STUCK_P90_BAND[1] * (now.p90 or 0)
    return flag, {
        "snapshot": now.end.isoformat(),
        "value": r(x / n),
        "stuck": int(x),
        "entered_in_band": int(n),
        "n": int(n),
        "baseline": r(p0),
        "baseline_snapshots": f"{base[-1].end.isoformat()}..{base[0].end.isoformat()}",
        "z": r(z, 2),
        "relative_change": r(rel, 3),
        "dispersion": r(phi, 3),
        "p90_days": r(now.p90, 1),
        "stuck_band_days": [r(lo, 1), r(hi, 1)],
    }


def stuck_deals(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    history = load_history(con, "stuck_open_share", as_of_date)
    findings: dict[str, dict[str, Any]] = {}
    flagged: list[str] = []
    for step in sorted(history, key=lambda s: STEP_ORDER.get(s, 9)):
        series = history[step]
        now = series.get(0)
        base = [series[i] for i in STUCK_BASELINE_SNAPSHOTS if i in series and series[i].denominator]
        if now is None or not now.denominator or len(base) < MIN_BASELINE_BUCKETS:
            findings[step] = {"flagged": False, "note": "not enough snapshots"}
            continue
        flag, res = stuck_share_test(now, base)
        lo, hi = STUCK_P90_BAND[0] * (now.p90 or 0), STUCK_P90_BAND[1] * (now.p90 or 0)
        (beyond_p90,) = fetch_one(
            con,
            "select count(*) from marts.fct_deal_stage_history where is_current and funnel_step = ? and dwell_days > ?",
            [step, now.p90 or 0],
        )
        res["open_beyond_p90"] = int(beyond_p90)
        res["flagged"] = flag
        res["sample_ids"] = (
            sample(
                con,
                "select deal_id from marts.fct_deal_stage_history where is_current and funnel_step = ? "
                "and dwell_days > ? and dwell_days <= ? order by dwell_days desc",
                [step, lo, hi],
            )
            if flag
            else []
        )
        findings[step] = res
        if flag:
            flagged.append(step)
    headline = "; ".join(
        f"{s}: {findings[s]['stuck']} of the {findings[s]['n']} deals that entered it {findings[s]['stuck_band_days'][0]}"
        f"-{findings[s]['stuck_band_days'][1]} days ago ({_BAND}) are still there ({findings[s]['value']:.1%}) vs "
        f"{findings[s]['baseline']:.1%} usually "
        f"(z={findings[s]['z']})"
        for s in flagged
    )
    return outcome(SPEC, findings, flagged, headline)


SPEC = CheckSpec(
    "stuck_deals",
    "fct_deal_stage_history",
    "WARN",
    f"Share of the deals that entered a step {_BAND.replace(' x p90', ' x')} its trailing p90 of completed visits "
    f"ago and are still in it, vs that share in weekly snapshots {STUCK_BASELINE_SNAPSHOTS.start}-"
    f"{STUCK_BASELINE_SNAPSHOTS.stop - 1} weeks back (z on the share).",
    stuck_deals,
)
