"""Independent reference for the columns and tables added for analysts (beyond the contract).

Written from the column definitions in the marts' dbt YAML (restated in each docstring),
without reading the SQL. Builds on the contracted
reference (:mod:`tests.reference.funnel`): its rows are the input, never the warehouse.

- names next to ids: ``dim_owners``, ``dim_pipelines``, ``dim_pipeline_stages``, and the
  label / name columns of ``fct_deals`` and ``fct_deal_stage_history``;
- ``fct_deals.lead_id`` / ``lead_channel``: the lead the deal came from (HubSpot: its primary
  contact; Pipedrive: its ``source_lead_id``) and that lead's channel (Pipedrive without one: the
  deal's own Source channel);
- ``mart_stage_conversion_monthly.maturity_days`` / ``cohort_age_days`` / ``is_mature``;
- ``mart_deal_outcomes_monthly.won_without_amount_count``;
- ``mart_build_info`` (the figures that do not depend on the wall clock).
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tests.reference import funnel
from tests.reference.funnel import Row, as_of_instant, channel_of, days_between, month_of, reached_at, to_utc

# Added columns per mart, and the keys of the added tables (for tests.marts.compare).
ADDED_COLUMNS: dict[str, tuple[str, ...]] = {
    "fct_deals": ("deal_id", "pipeline_label", "current_stage_label", "owner_name", "lead_id", "lead_channel"),
    "fct_deal_stage_history": ("deal_id", "visit_number", "pipeline_label", "stage_label"),
    "mart_stage_conversion_monthly": (
        "cohort_month",
        "source",
        "funnel_step_order",
        "maturity_days",
        "cohort_age_days",
        "is_mature",
    ),
    "mart_deal_outcomes_monthly": ("close_month", "source", "won_count", "won_without_amount_count"),
    "dim_owners": ("source", "owner_id", "owner_name", "email", "is_archived"),
    "dim_pipelines": ("source", "pipeline_id", "pipeline_label", "display_order", "is_archived", "stage_count"),
    "dim_pipeline_stages": (
        "source",
        "pipeline_id",
        "pipeline_label",
        "stage_id",
        "stage_label",
        "display_order",
        "funnel_step",
        "funnel_step_order",
        "is_closed",
        "is_archived",
    ),
    "mart_build_info": ("source", "as_of_date", "as_of", "deal_count", "lead_count", "reporting_currency"),
}
ADDED_KEYS: dict[str, tuple[str, ...]] = {
    "fct_deals": ("deal_id",),
    "fct_deal_stage_history": ("deal_id", "visit_number"),
    "mart_stage_conversion_monthly": ("cohort_month", "source", "funnel_step_order"),
    "mart_deal_outcomes_monthly": ("close_month", "source"),
    "dim_owners": ("source", "owner_id"),
    "dim_pipelines": ("source", "pipeline_id"),
    "dim_pipeline_stages": ("source", "pipeline_id", "stage_id"),
    "mart_build_info": ("source",),
}
MATURITY_QUANTILE = 0.9
LEAD_COLUMNS = ("deal_id", "lead_id", "lead_channel")  # the fct_deals columns every CRM's reference gives


def quantile_cont(values: list[float], q: float) -> float | None:
    """Continuous quantile, linear interpolation between closest ranks (position q·(n−1))."""
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def owner_name(first: Any, last: Any, email: Any, owner_id: str) -> str:
    """ "first and last name, else the email, else `owner <id>`"."""
    full = f"{(first or '').strip()} {(last or '').strip()}".strip()
    return full or (email or "").strip() or f"owner {owner_id}"


def dim_rows(truth: Any, seeds_dir: Path) -> dict[str, list[Row]]:
    """The three dimensions from the CRM's owners, pipelines and stages and the mapping seed."""
    src = "hubspot"
    owners = [
        {
            "source": src,
            "owner_id": str(o["id"]),
            "owner_name": owner_name(o["first_name"], o["last_name"], o["email"], str(o["id"])),
            "email": (o["email"] or "").strip() or None,
            "is_archived": bool(o["archived"]),
        }
        for o in funnel._records(truth.owners())
    ]
    stages = funnel._records(truth.stages())
    count: dict[str, int] = defaultdict(int)
    for s in stages:
        count[str(s["pipeline_id"])] += 1
    pipelines = [
        {
            "source": src,
            "pipeline_id": str(p["id"]),
            "pipeline_label": p["label"] or str(p["id"]),
            "display_order": int(p["display_order"]),
            "is_archived": bool(p["archived"]),
            "stage_count": count[str(p["id"])],
        }
        for p in funnel._records(truth.pipelines())
    ]
    label = {p["pipeline_id"]: p["pipeline_label"] for p in pipelines}
    mapping = {
        (r["source"], r["pipeline_id"], r["stage_id"]): r
        for r in funnel.read_seed(Path(seeds_dir) / "funnel_stage_mapping.csv")
    }
    dim_stages = []
    for s in stages:
        m = mapping.get((src, str(s["pipeline_id"]), str(s["stage_id"])))
        dim_stages.append(
            {
                "source": src,
                "pipeline_id": str(s["pipeline_id"]),
                "pipeline_label": label.get(str(s["pipeline_id"]), str(s["pipeline_id"])),
                "stage_id": str(s["stage_id"]),
                "stage_label": s["label"] or str(s["stage_id"]),
                "display_order": int(s["display_order"]),
                "funnel_step": m["funnel_step"] if m else None,
                "funnel_step_order": int(m["funnel_step_order"]) if m and m["funnel_step_order"] else None,
                "is_closed": bool(s["is_closed"]),
                "is_archived": bool(s["archived"]),
            }
        )
    return {"dim_owners": owners, "dim_pipelines": pipelines, "dim_pipeline_stages": dim_stages}


def maturity_rows(marts: dict[str, list[Row]], leads: list[Row], links: list[Row], as_of_date: date) -> list[Row]:
    """``maturity_days``, ``cohort_age_days`` and ``is_mature`` of every conversion row.

    "The step's usual time to advance, in days: the 90th percentile (continuous) of entry →
    advance over every entry of this source and step that advanced by `as_of`. Step 1 from the
    lead's creation to the creation of its first associated live deal; steps 2–4 from reaching
    step k to first reaching an order above k." "`cohort_age_days`: days from the end of the
    cohort month to `as_of`." "`is_mature`: its month has ended and `cohort_age_days ≥
    maturity_days` (a null `maturity_days` counts as 0)."
    """
    as_of = as_of_instant(as_of_date)
    deal_created = {d["deal_id"]: d["created_at"] for d in marts["fct_deals"]}
    first_deal: dict[tuple[str, str], datetime] = {}
    for a in links:
        did = funnel.deal_key(a["source"], a["source_deal_id"])
        if did in deal_created:
            key = (a["source"], str(a["source_contact_id"]))
            first_deal[key] = min(first_deal.get(key, deal_created[did]), deal_created[did])
    times: dict[tuple[str, int], list[float]] = defaultdict(list)
    for c in leads:
        key = (c["source"], str(c["source_contact_id"]))
        if key in first_deal:
            times[c["source"], 1].append(days_between(to_utc(c["created_at"]), first_deal[key]))
    visits: dict[str, list[Row]] = defaultdict(list)
    for v in marts["fct_deal_stage_history"]:
        visits[v["deal_id"]].append(v)
    for vs in visits.values():
        vs.sort(key=lambda v: v["visit_number"])
        top = funnel.max_order(vs)
        for k in (2, 3, 4):
            entered = reached_at(vs, k)
            if entered is not None and top is not None and top > k:
                times[vs[0]["source"], k].append(days_between(entered, reached_at(vs, k + 1)))
    out = []
    for r in marts["mart_stage_conversion_monthly"]:
        month = r["cohort_month"]
        end = datetime(month.year + month.month // 12, month.month % 12 + 1, 1)
        age = days_between(end, as_of)
        threshold = quantile_cont(times.get((r["source"], r["funnel_step_order"]), []), MATURITY_QUANTILE)
        out.append(
            {
                "cohort_month": month,
                "source": r["source"],
                "funnel_step_order": r["funnel_step_order"],
                "maturity_days": threshold,
                "cohort_age_days": age,
                "is_mature": age >= 0 and age >= (threshold or 0.0),
            }
        )
    return out


def outcome_rows(marts: dict[str, list[Row]]) -> list[Row]:
    """ "`won_without_amount_count`: won deals without an amount", per close month × source."""
    missing: dict[tuple[date, str], int] = defaultdict(int)
    for d in marts["fct_deals"]:
        if d["outcome"] == "won" and d["amount_reporting"] is None:
            missing[month_of(d["closed_at"]), d["source"]] += 1
    return [
        {
            "close_month": r["close_month"],
            "source": r["source"],
            "won_count": r["won_count"],
            "won_without_amount_count": missing[r["close_month"], r["source"]],
        }
        for r in marts["mart_deal_outcomes_monthly"]
    ]


def deal_lead_rows(
    deals: list[Row],
    leads: list[Row],
    deal_leads: dict[str, str],
    deal_channels: dict[str, Any] | None = None,
) -> list[Row]:
    """``fct_deals.lead_id`` and ``lead_channel`` of every deal.

    "`lead_id`: the lead the deal records when the CRM keeps one (Pipedrive `source_lead_id`),
    else its primary contact when that contact is a lead; null when there is no such live lead."
    "`lead_channel`: the `channel` of its lead ...; without such a lead, the deal's own channel
    where the CRM keeps one on the deal (Pipedrive: the deal's Source channel label, lower-cased,
    `unknown` when unset); null for a HubSpot deal without a primary contact."
    ``leads``: live leads created before ``as_of`` (``source``, ``source_contact_id``,
    ``channel``); ``deal_channels``: deal_id → the deal's own channel label (Pipedrive deals)."""
    from tests.reference.marketing import deal_lead

    channel = {(c["source"], str(c["source_contact_id"])): channel_of(c.get("channel")) for c in leads}
    own = deal_channels or {}
    out = []
    for d in deals:
        key = deal_lead(d, deal_leads)
        if key is not None and key in channel:
            out.append({"deal_id": d["deal_id"], "lead_id": f"{key[0]}:{key[1]}", "lead_channel": channel[key]})
        else:
            fallback = channel_of(own[d["deal_id"]]) if d["deal_id"] in own else None
            out.append({"deal_id": d["deal_id"], "lead_id": None, "lead_channel": fallback})
    return out


def pipedrive_deal_lead_rows(
    sandbox: Path | str, *, as_of_date: date, seeds_dir: Path | str, reporting_currency: str = "USD"
) -> list[Row]:
    """:func:`deal_lead_rows` of the sandbox's Pipedrive deals (columns :data:`LEAD_COLUMNS`)."""
    from tests.reference import pipedrive

    inputs = pipedrive.pipedrive_inputs(sandbox)
    marts = pipedrive.pipedrive_marts_from_truth(
        sandbox, as_of_date=as_of_date, seeds_dir=seeds_dir, reporting_currency=reporting_currency
    )
    as_of = as_of_instant(as_of_date)
    leads = [c for c in inputs["leads"] if to_utc(c["created_at"]) < as_of]
    links = {
        funnel.deal_key(a["source"], a["source_deal_id"]): str(a["source_contact_id"]) for a in inputs["lead_links"]
    }
    own = {funnel.deal_key(c["source"], c["source_deal_id"]): c["channel"] for c in inputs["deal_channels"]}
    return deal_lead_rows(marts["fct_deals"], leads, links, own)


def analyst_marts(
    truth: Any,
    *,
    as_of_date: date,
    seeds_dir: Path | str,
    reporting_currency: str = "USD",
    loaded_sources: tuple[str, ...] = ("hubspot",),
) -> dict[str, list[Row]]:
    """Reference rows of every added table and column (see :data:`ADDED_COLUMNS`) for a
    warehouse where HubSpot's CRM and the ``loaded_sources`` (HubSpot and ad platforms: no
    deals or leads of their own) have loaded."""
    seeds = Path(seeds_dir)
    marts = funnel.marts_from_truth(
        truth, as_of_date=as_of_date, seeds_dir=seeds, reporting_currency=reporting_currency
    )
    inputs = funnel.hubspot_inputs(truth)
    as_of = as_of_instant(as_of_date)
    live = {(c["source"], str(c["source_contact_id"])): c for c in inputs["contacts"] if funnel.is_live(c)}
    leads = [c for c in live.values() if to_utc(c["created_at"]) < as_of]
    lead_keys = {(c["source"], str(c["source_contact_id"])) for c in leads}
    links = [a for a in inputs["deal_contacts"] if (a["source"], str(a["source_contact_id"])) in lead_keys]
    dims = dim_rows(truth, seeds)
    stage_label = {
        (s["source"], s["pipeline_id"], s["stage_id"]): s["stage_label"] for s in dims["dim_pipeline_stages"]
    }
    pipe_label = {(p["source"], p["pipeline_id"]): p["pipeline_label"] for p in dims["dim_pipelines"]}
    names = {(o["source"], o["owner_id"]): o["owner_name"] for o in dims["dim_owners"]}
    lead_of = {r["deal_id"]: r for r in deal_lead_rows(marts["fct_deals"], leads, {})}
    deals = []
    for d in marts["fct_deals"]:
        deals.append(
            {
                "deal_id": d["deal_id"],
                "pipeline_label": pipe_label.get((d["source"], d["pipeline_id"]), d["pipeline_id"]),
                "current_stage_label": stage_label.get(
                    (d["source"], d["pipeline_id"], d["current_stage_id"]), d["current_stage_id"]
                ),
                "owner_name": names.get((d["source"], d["owner_id"])),
                "lead_id": lead_of[d["deal_id"]]["lead_id"],
                "lead_channel": lead_of[d["deal_id"]]["lead_channel"],
            }
        )
    history = [
        {
            "deal_id": v["deal_id"],
            "visit_number": v["visit_number"],
            "pipeline_label": pipe_label.get((v["source"], v["pipeline_id"]), v["pipeline_id"]),
            "stage_label": stage_label.get((v["source"], v["pipeline_id"], v["stage_id"]), v["stage_id"]),
        }
        for v in marts["fct_deal_stage_history"]
    ]
    build = [
        {
            "source": source,
            "as_of_date": as_of_date,
            "as_of": as_of,
            "deal_count": len(marts["fct_deals"]) if source == "hubspot" else 0,
            "lead_count": len(leads) if source == "hubspot" else 0,
            "reporting_currency": reporting_currency,
        }
        for source in loaded_sources
    ]
    return {
        **dims,
        "fct_deals": deals,
        "fct_deal_stage_history": history,
        "mart_stage_conversion_monthly": maturity_rows(marts, leads, links, as_of_date),
        "mart_deal_outcomes_monthly": outcome_rows(marts),
        "mart_build_info": build,
    }
