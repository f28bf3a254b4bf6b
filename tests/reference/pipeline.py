"""Independent reference computation of the pipeline-over-time marts (docs/metrics.md).

Written from docs/metrics.md without reading the dbt models. Pure Python over the
same generic inputs as :mod:`tests.reference.funnel` (whose visit, deal and money helpers it
reuses), plus:

``property_history``
    ``source``, ``source_deal_id``, ``property`` (``amount``, ``currency``, ``close_date``),
    ``seq`` (the entry's place in the API's order counted from the oldest; breaks timestamp
    ties), ``value`` (text as the CRM sends it; ``''`` is no value), ``changed_at``.
``stage_probabilities``
    ``source``, ``pipeline_id``, ``stage_id``, ``probability`` (fraction 0–1, text or number;
    empty = none).

The bottleneck mart lives in :mod:`tests.reference.bottlenecks`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from tests.reference import funnel
from tests.reference.funnel import (
    RateTable,
    Row,
    StageMap,
    days_between,
    deal_key,
    id_sort_key,
    is_live,
    mean,
    median,
    month_of,
    parse_amount,
    to_date,
    to_utc,
)

WINDOW_DAYS = 180
OPEN_ORDERS = (2, 3, 4)

MART_COLUMNS: dict[str, tuple[str, ...]] = {
    "fct_pipeline_snapshot_daily": (
        "snapshot_date",
        "deal_id",
        "source",
        "source_deal_id",
        "pipeline_id",
        "stage_id",
        "funnel_step",
        "funnel_step_order",
        "amount",
        "currency_code",
        "amount_reporting",
        "amount_basis",
        "stage_probability",
        "weighted_amount_reporting",
        "expected_close_date",
        "is_overdue",
        "days_in_stage",
        "deal_age_days",
    ),
    "mart_pipeline_by_stage_daily": (
        "snapshot_date",
        "source",
        "pipeline_id",
        "funnel_step",
        "funnel_step_order",
        "open_deal_count",
        "open_amount_reporting",
        "weighted_amount_reporting",
        "deals_missing_amount",
        "median_days_in_stage",
        "overdue_deal_count",
        "overdue_amount_reporting",
    ),
    "mart_pipeline_velocity_monthly": (
        "month",
        "source",
        "open_deal_count",
        "won_count",
        "lost_count",
        "win_rate",
        "avg_won_deal_value",
        "avg_cycle_days_won",
        "velocity_per_day",
    ),
    "mart_funnel_bottlenecks_monthly": (
        "month",
        "source",
        "funnel_step",
        "funnel_step_order",
        "exits",
        "advanced_count",
        "lost_count",
        "regressed_count",
        "advance_rate",
        "median_dwell_days",
        "p90_dwell_days",
        "open_at_period_end",
        "stuck_count",
        "stuck_amount_reporting",
        "lost_amount_reporting",
        "is_conversion_bottleneck",
        "is_value_bottleneck",
    ),
}
MART_KEYS: dict[str, tuple[str, ...]] = {
    "fct_pipeline_snapshot_daily": ("deal_id", "snapshot_date"),
    "mart_pipeline_by_stage_daily": ("snapshot_date", "source", "pipeline_id", "funnel_step"),
    "mart_pipeline_velocity_monthly": ("month", "source"),
    "mart_funnel_bottlenecks_monthly": ("month", "source", "funnel_step"),
}
PROPERTIES = ("amount", "currency", "close_date")


def end_of(day: date) -> datetime:
    """ "`end(D)` is the instant D + 1 day at 00:00 UTC, exclusive\""""
    return datetime(day.year, day.month, day.day) + timedelta(days=1)


def value_at(entries: list[Mapping[str, Any]], instant: datetime) -> Any:
    """ "the value of the newest change of that property dated before `end(D)` ...; equal times
    keep the API's order. A property whose history has entries, none before `end(D)`, is null
    then (not yet set); an empty string is null." ``entries`` is not empty."""
    before = [e for e in entries if to_utc(e["changed_at"]) < instant]
    if not before:
        return None
    newest = max(before, key=lambda e: (to_utc(e["changed_at"]), int(e["seq"])))
    return None if newest["value"] in (None, "") else newest["value"]


def sum_or_zero(values: list[float | None]) -> float:
    """ "Sums of money in these marts add non-null values and are 0 when there are none\""""
    return float(sum(v for v in values if v is not None))


def covering_visit(visits: list[Row], instant: datetime) -> Row | None:
    """ "the `fct_deal_stage_history` visit with `entered_at < end(D)` and (`exited_at` null or
    `exited_at >= end(D)`)\""""
    for v in visits:
        if v["entered_at"] < instant and (v["exited_at"] is None or v["exited_at"] >= instant):
            return v
    return None


def snapshot_rows_of_deal(
    deal: Mapping[str, Any],
    visits: list[Row],
    history: Mapping[str, list[Mapping[str, Any]]],
    probabilities: Mapping[tuple[str, str, str], float | None],
    rates: RateTable,
    *,
    as_of_date: date,
    reporting_currency: str,
    default_currency: str,
) -> list[Row]:
    """``fct_pipeline_snapshot_daily`` rows of one deal: "For every D from the UTC day of the
    deal's `created_at` to `as_of_date`, if the deal is open at `end(D)`"."""
    created = to_utc(deal["created_at"])
    latest = {"amount": deal.get("amount"), "currency": deal.get("currency_code"), "close_date": deal.get("close_date")}
    rows = []
    day = created.date()
    while day <= as_of_date:
        instant = end_of(day)
        visit = covering_visit(visits, instant)
        day, this_day = day + timedelta(days=1), day
        if visit is None or visit["funnel_step_order"] not in OPEN_ORDERS:
            continue
        values = {p: value_at(history[p], instant) if history.get(p) else latest[p] for p in PROPERTIES}
        amount = parse_amount(values["amount"])
        currency = values["currency"] or default_currency
        amount_reporting = rates.convert(amount, currency, reporting_currency, this_day, visit["deal_id"])
        probability = probabilities.get((deal["source"], visit["pipeline_id"], visit["stage_id"]))
        expected = to_date(values["close_date"])
        rows.append(
            {
                "snapshot_date": this_day,
                "deal_id": visit["deal_id"],
                "source": deal["source"],
                "source_deal_id": str(deal["source_deal_id"]),
                "pipeline_id": visit["pipeline_id"],
                "stage_id": visit["stage_id"],
                "funnel_step": visit["funnel_step"],
                "funnel_step_order": visit["funnel_step_order"],
                "amount": amount,
                "currency_code": currency,
                "amount_reporting": amount_reporting,
                "amount_basis": "history" if history.get("amount") else "latest",
                "stage_probability": probability,
                "weighted_amount_reporting": (
                    amount_reporting * probability if amount_reporting is not None and probability is not None else None
                ),
                "expected_close_date": expected,
                "is_overdue": expected is not None and expected < this_day,
                "days_in_stage": days_between(visit["entered_at"], instant),
                "deal_age_days": days_between(created, instant),
            }
        )
    return rows


def by_stage_rows(snapshots: list[Row]) -> list[Row]:
    """``mart_pipeline_by_stage_daily``: "It is the snapshot fact summed"."""
    groups: dict[tuple, list[Row]] = defaultdict(list)
    for r in snapshots:
        groups[r["snapshot_date"], r["source"], r["pipeline_id"], r["funnel_step"], r["funnel_step_order"]].append(r)
    out = []
    for (day, source, pipeline, step, order), rows in sorted(groups.items(), key=lambda kv: repr(kv[0])):
        overdue = [r for r in rows if r["is_overdue"]]
        out.append(
            {
                "snapshot_date": day,
                "source": source,
                "pipeline_id": pipeline,
                "funnel_step": step,
                "funnel_step_order": order,
                "open_deal_count": len(rows),
                "open_amount_reporting": sum_or_zero([r["amount_reporting"] for r in rows]),
                "weighted_amount_reporting": sum_or_zero([r["weighted_amount_reporting"] for r in rows]),
                "deals_missing_amount": sum(1 for r in rows if r["amount"] is None),
                "median_days_in_stage": median([r["days_in_stage"] for r in rows]),
                "overdue_deal_count": len(overdue),
                "overdue_amount_reporting": sum_or_zero([r["amount_reporting"] for r in overdue]),
            }
        )
    return out


def months_and_period_ends(first_created: datetime, as_of_date: date) -> list[tuple[date, date, datetime]]:
    """(month, its last counted day, period_end): "A month's `period_end` is `end` of its last day,
    or `as_of` for the month of `as_of_date`; months run from the month of the first live deal's
    `created_at` to the month of `as_of_date`"."""
    out = []
    month = month_of(first_created)
    while month <= as_of_date:
        nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        last = min(nxt - timedelta(days=1), as_of_date)
        out.append((month, last, end_of(last)))
        month = nxt
    return out


def in_window(moment: datetime | None, period_end: datetime) -> bool:
    """ "The window of month M is (`period_end` − 180 days, `period_end`]\""""
    return moment is not None and period_end - timedelta(days=WINDOW_DAYS) < moment <= period_end


def velocity_rows(
    deal_rows: list[Row], snapshots: list[Row], periods: list[tuple[date, date, datetime]], sources: list[str]
) -> list[Row]:
    """``mart_pipeline_velocity_monthly``: one row per month × source."""
    open_on: dict[tuple[date, str], int] = defaultdict(int)
    for r in snapshots:
        open_on[r["snapshot_date"], r["source"]] += 1
    out = []
    for month, last_day, period_end in periods:
        for source in sources:
            closed = [
                d
                for d in deal_rows
                if d["source"] == source and d["outcome"] in ("won", "lost") and in_window(d["closed_at"], period_end)
            ]
            won = [d for d in closed if d["outcome"] == "won"]
            n_open = open_on[last_day, source]
            win_rate = len(won) / len(closed) if closed else None
            value = mean([d["amount_reporting"] for d in won if d["amount_reporting"] is not None])
            cycle = mean([d["cycle_days"] for d in won])
            velocity = None
            if win_rate is not None and value is not None and cycle:
                velocity = n_open * win_rate * value / cycle
            out.append(
                {
                    "month": month,
                    "source": source,
                    "open_deal_count": n_open,
                    "won_count": len(won),
                    "lost_count": len(closed) - len(won),
                    "win_rate": win_rate,
                    "avg_won_deal_value": value,
                    "avg_cycle_days_won": cycle,
                    "velocity_per_day": velocity,
                }
            )
    return out


def compute_pipeline_marts(
    deals: list[Mapping[str, Any]],
    stage_history: list[Mapping[str, Any]],
    property_history: list[Mapping[str, Any]],
    stage_probabilities: list[Mapping[str, Any]],
    mapping: list[Mapping[str, Any]],
    rates: list[Mapping[str, Any]],
    *,
    as_of_date: date,
    reporting_currency: str = "USD",
    default_currency: str | None = None,
) -> dict[str, list[Row]]:
    """The four docs/metrics.md marts from generic inputs (module docstring and :mod:`tests.reference.funnel`)."""
    from tests.reference.bottlenecks import bottleneck_rows

    as_of = funnel.as_of_instant(as_of_date)
    stages, rate_table = StageMap(mapping), RateTable(rates)
    probabilities = {
        (str(p["source"]), str(p["pipeline_id"]), str(p["stage_id"])): (
            None if p["probability"] in (None, "") else float(p["probability"])
        )
        for p in stage_probabilities
    }
    live = [d for d in deals if is_live(d) and to_utc(d["created_at"]) < as_of]
    stage_entries: dict[str, list] = defaultdict(list)
    for e in stage_history:
        stage_entries[deal_key(e["source"], e["source_deal_id"])].append(e)
    prop_entries: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for e in property_history:
        prop_entries[deal_key(e["source"], e["source_deal_id"])][e["property"]].append(e)

    snapshots: list[Row] = []
    deal_rows: list[Row] = []
    visits_by_deal: dict[str, list[Row]] = {}
    for d in sorted(live, key=lambda d: (d["source"], id_sort_key(d["source_deal_id"]))):
        did = deal_key(d["source"], d["source_deal_id"])
        visits = funnel.build_visits(d, stage_entries.get(did, []), stages, as_of)
        visits_by_deal[did] = visits
        deal_rows.append(funnel.deal_row(d, visits, None, rate_table, reporting_currency, as_of_date))
        snapshots += snapshot_rows_of_deal(
            d,
            visits,
            prop_entries.get(did, {}),
            probabilities,
            rate_table,
            as_of_date=as_of_date,
            reporting_currency=reporting_currency,
            default_currency=default_currency or reporting_currency,
        )
    if not live:
        return {name: [] for name in MART_COLUMNS}
    periods = months_and_period_ends(min(to_utc(d["created_at"]) for d in live), as_of_date)
    sources = sorted({d["source"] for d in live})
    return {
        "fct_pipeline_snapshot_daily": snapshots,
        "mart_pipeline_by_stage_daily": by_stage_rows(snapshots),
        "mart_pipeline_velocity_monthly": velocity_rows(deal_rows, snapshots, periods, sources),
        "mart_funnel_bottlenecks_monthly": bottleneck_rows(visits_by_deal, deal_rows, snapshots, periods),
    }


HUBSPOT_PROPERTIES = {"amount": "amount", "deal_currency_code": "currency", "closedate": "close_date"}


def hubspot_pipeline_inputs(truth: Any) -> dict[str, list[Row]]:
    """The sandbox ground truth's property histories and stage probabilities as generic inputs."""
    src = "hubspot"
    history = [
        {
            "source": src,
            "source_deal_id": h["deal_id"],
            "property": prop,
            "seq": int(h["seq"]),
            "value": h["value"],
            "changed_at": int(h["timestamp_ms"]),
        }
        for hs_prop, prop in HUBSPOT_PROPERTIES.items()
        for h in funnel._records(truth.property_history(hs_prop))
    ]
    probabilities = [
        {"source": src, "pipeline_id": s["pipeline_id"], "stage_id": s["stage_id"], "probability": s["probability"]}
        for s in funnel._records(truth.stages())
    ]
    return {"property_history": history, "stage_probabilities": probabilities}


def pipeline_marts_from_truth(truth: Any, *, as_of_date: date, seeds_dir: Any, reporting_currency: str = "USD"):
    """:func:`compute_pipeline_marts` over a :class:`emulators.truth.ground_truth.GroundTruth`."""
    from pathlib import Path

    seeds = Path(seeds_dir)
    base = funnel.hubspot_inputs(truth)
    extra = hubspot_pipeline_inputs(truth)
    return compute_pipeline_marts(
        base["deals"],
        base["stage_history"],
        extra["property_history"],
        extra["stage_probabilities"],
        funnel.read_seed(seeds / "funnel_stage_mapping.csv"),
        funnel.read_seed(seeds / "currency_rates.csv"),
        as_of_date=as_of_date,
        reporting_currency=reporting_currency,
    )
