"""`lead_volume_anomaly`: new leads per channel, the last 7 days vs the same weekdays before."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec, load_history, num, outcome, r, window
from warehouse.anomaly.checks.decide import count_anomalous, same_weekday_baseline, screen_daily
from warehouse.anomaly.thresholds import MIN_N, MIN_SAME_WEEKDAY_WEEKS, SAME_WEEKDAY_WEEKS


def lead_volume_anomaly(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:
    history = load_history(con, "leads", as_of_date)
    findings: dict[str, dict[str, Any]] = {}
    flagged: list[str] = []
    for channel in sorted(history):
        series = history[channel]
        screened = screen_daily(series, 7, "both", MIN_N)
        groups: list[list[float]] = []
        observed = 0.0
        for day in range(7):
            base = same_weekday_baseline(series, day, screened)
            if len(base) < MIN_SAME_WEEKDAY_WEEKS:
                groups = []
                break
            groups.append(base)
            observed += num(series[day].value)
        if not groups:
            findings[channel] = {"flagged": False, "note": "not enough same-weekday history"}
            continue
        flag, res = count_anomalous(observed, groups, "both", MIN_N)
        res.update(
            window([series[d] for d in range(7)]),
            flagged=flag,
            daily=[int(num(series[d].value)) for d in range(6, -1, -1)],
            baseline_daily=[r(sum(g) / len(g), 1) for g in reversed(groups)],
            excluded_flagged_days=sorted(series[d].end.isoformat() for d in screened),
        )
        findings[channel] = res
        if flag:
            flagged.append(channel)
    headline = "; ".join(
        f"{c}: {findings[c]['value']:.0f} leads in the last 7 days vs {findings[c]['baseline']:.0f} expected from the "
        f"same weekdays of the previous {SAME_WEEKDAY_WEEKS} weeks ({findings[c]['relative_change']:+.0%}, "
        f"z={findings[c]['z']})"
        for c in flagged
    )
    return outcome(SPEC, findings, flagged, headline)


SPEC = CheckSpec(
    "lead_volume_anomaly",
    "mart_lead_volume_daily",
    "WARN",
    f"New leads per channel over the last 7 days vs the same weekdays of the previous {SAME_WEEKDAY_WEEKS} weeks "
    "(quasi-Poisson z, drops and spikes).",
    lead_volume_anomaly,
)
