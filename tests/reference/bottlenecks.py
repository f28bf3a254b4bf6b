"""Reference computation of ``mart_funnel_bottlenecks_monthly`` (docs/metrics.md), from the visits
and deal rows of :mod:`tests.reference.funnel` and the snapshot rows of
:mod:`tests.reference.pipeline`. Written from the contract, not from the dbt model."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from itertools import pairwise

from tests.reference.funnel import Row, days_between, median, month_of

MIN_EXITS = 20
WINDOW_DAYS = 180
STEPS = {2: "qualification", 3: "presentation", 4: "negotiation"}
WON_ORDER = 5


def quantile_cont(values: list[float], q: float) -> float | None:
    """ "Percentiles (`p90`) interpolate linearly between closest ranks (DuckDB `quantile_cont`)\""""
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def step_visits(visits: list[Row]) -> list[Row]:
    """ "A **step visit** merges a deal's consecutive visits with the same `funnel_step`; it starts
    with the first of them and exits when the deal's next visit with another `funnel_step`
    starts. The exit is *advanced* when that visit's step order is higher (won is 5), *lost* when
    it is a lost visit, *regressed* when its order is lower.\""""
    merged: list[Row] = []
    for v in visits:
        if merged and merged[-1]["funnel_step"] == v["funnel_step"]:
            continue
        merged.append(
            {
                "deal_id": v["deal_id"],
                "source": v["source"],
                "funnel_step": v["funnel_step"],
                "order": v["funnel_step_order"],
                "start": v["entered_at"],
                "exit": None,
                "exit_type": None,
            }
        )
    for a, b in pairwise(merged):
        a["exit"] = b["start"]
        if b["funnel_step"] == "lost":
            a["exit_type"] = "lost"
        elif a["order"] is not None and b["order"] is not None and b["order"] > a["order"]:
            a["exit_type"] = "advanced"
        else:
            a["exit_type"] = "regressed"
    return merged


def bottleneck_rows(
    visits_by_deal: Mapping[str, list[Row]],
    deal_rows: list[Row],
    snapshots: list[Row],
    periods: list[tuple[date, date, datetime]],
) -> list[Row]:
    """One row per month × source × step 2–4 "with at least one exit that month or one deal open
    at `period_end`"."""
    amount_of = {d["deal_id"]: d["amount_reporting"] for d in deal_rows}
    visits = {did: step_visits(vs) for did, vs in visits_by_deal.items()}
    exits = [sv for svs in visits.values() for sv in svs if sv["order"] in STEPS and sv["exit"] is not None]
    by_month: dict[tuple[date, str, int], list[Row]] = defaultdict(list)
    for sv in exits:  # "Exits before `as_of` count in the month of the exit."
        by_month[month_of(sv["exit"]), sv["source"], sv["order"]].append(sv)
    snaps_on: dict[date, list[Row]] = defaultdict(list)
    for r in snapshots:
        snaps_on[r["snapshot_date"]].append(r)

    cells: dict[tuple[date, str, int], Row] = {}
    for month, last_day, period_end in periods:
        # stuck threshold: "the `p90_dwell_days` of the step visits of that source and step exited
        # in the 180 days before `period_end`; below 20 such exits there is no threshold"
        window = [sv for sv in exits if period_end - timedelta(days=WINDOW_DAYS) < sv["exit"] <= period_end]
        open_cells: dict[tuple[str, int], list[tuple[Row, Row]]] = defaultdict(list)
        for r in snaps_on[last_day]:
            current = next(
                sv
                for sv in visits[r["deal_id"]]
                if sv["start"] < period_end and (sv["exit"] is None or sv["exit"] >= period_end)
            )
            open_cells[r["source"], current["order"]].append((r, current))
        sources = {s for (_m, s, _o) in by_month if _m == month} | {s for s, _o in open_cells}
        for source in sorted(sources):
            for order, step in STEPS.items():
                exited = by_month.get((month, source, order), [])
                opened = open_cells.get((source, order), [])
                if not exited and not opened:
                    continue
                dwell = [days_between(sv["start"], sv["exit"]) for sv in exited]
                past = [
                    days_between(sv["start"], sv["exit"])
                    for sv in window
                    if sv["source"] == source and sv["order"] == order
                ]
                threshold = quantile_cont(past, 0.9) if len(past) >= MIN_EXITS else None
                stuck = [
                    r for r, sv in opened if threshold is not None and days_between(sv["start"], period_end) > threshold
                ]
                kinds = [sv["exit_type"] for sv in exited]
                lost_amounts = [amount_of[sv["deal_id"]] for sv in exited if sv["exit_type"] == "lost"]
                cells[month, source, order] = {
                    "month": month,
                    "source": source,
                    "funnel_step": step,
                    "funnel_step_order": order,
                    "exits": len(exited),
                    "advanced_count": kinds.count("advanced"),
                    "lost_count": kinds.count("lost"),
                    "regressed_count": kinds.count("regressed"),
                    "advance_rate": kinds.count("advanced") / len(exited) if exited else None,
                    "median_dwell_days": median(dwell),
                    "p90_dwell_days": quantile_cont(dwell, 0.9),
                    "open_at_period_end": len(opened),
                    "stuck_count": len(stuck),
                    "stuck_amount_reporting": float(
                        sum(r["amount_reporting"] for r in stuck if r["amount_reporting"] is not None)
                    ),
                    "lost_amount_reporting": float(sum(a for a in lost_amounts if a is not None)),
                }
    rows = sorted(cells.values(), key=lambda r: (r["month"], r["source"], r["funnel_step_order"]))
    flag_bottlenecks(rows)
    return rows


def flag_bottlenecks(rows: list[Row]) -> None:
    """ "`is_conversion_bottleneck` (the step with the lowest `advance_rate` among the month's steps
    with at least 20 exits; ties: the higher step order) and `is_value_bottleneck` (the step with
    the highest `lost_amount_reporting + stuck_amount_reporting`, when above 0; ties: the higher
    step order); both flags are false, never null, on the other steps.\""""
    groups: dict[tuple[date, str], list[Row]] = defaultdict(list)
    for r in rows:
        r["is_conversion_bottleneck"] = r["is_value_bottleneck"] = False
        groups[r["month"], r["source"]].append(r)
    for group in groups.values():
        eligible = [r for r in group if r["exits"] >= MIN_EXITS]
        if eligible:
            min(eligible, key=lambda r: (r["advance_rate"], -r["funnel_step_order"]))["is_conversion_bottleneck"] = True
        leak = max(
            group, key=lambda r: (r["lost_amount_reporting"] + r["stuck_amount_reporting"], r["funnel_step_order"])
        )
        if leak["lost_amount_reporting"] + leak["stuck_amount_reporting"] > 0:
            leak["is_value_bottleneck"] = True
