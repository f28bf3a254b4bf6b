"""Independent reference computation of the marketing marts (docs/metrics.md), in plain Python.

Written from the contract's words (quoted in the docstrings), never from the dbt models. The
CRM side (leads, ``fct_deals``) reuses :mod:`tests.reference.funnel`; the ad side reads the
sandbox's ad truth (:mod:`emulators.truth.ads`): accounts, campaigns (current name), daily stats.

Generic inputs:

``spend_days``
    ``platform``, ``account_id``, ``campaign_id``, ``day`` (date, the account's day),
    ``campaign_name`` (the campaign's latest name), ``currency_code``, ``spend`` (float, account
    currency), ``impressions``, ``clicks``, ``platform_conversions``.
``leads``
    ``source``, ``source_lead_id``, ``created_at``, ``channel`` (lower-cased), live and created
    before ``as_of`` (as for ``mart_lead_volume_daily``).
``deals``
    ``fct_deals`` reference rows.
``channel_mapping``
    the ``campaign_channel_mapping`` seed rows.
``lead_channel_mapping``
    the ``lead_channel_mapping`` seed rows (source, CRM channel → marketing channel).
``deal_leads``
    ``deal_id`` → the CRM's id of the lead a Pipedrive deal was converted from (its
    ``source_lead_id``); other deals use their ``primary_contact_id``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tests.reference import funnel
from tests.reference.funnel import ReferenceError, Row, as_of_instant, month_of, read_seed, to_utc

MART_COLUMNS: dict[str, tuple[str, ...]] = {
    "fct_ad_spend_daily": (
        "spend_date",
        "platform",
        "account_id",
        "campaign_id",
        "campaign_name",
        "channel",
        "currency_code",
        "spend",
        "spend_reporting",
        "impressions",
        "clicks",
        "platform_conversions",
    ),
    "mart_marketing_roi_monthly": (
        "month",
        "channel",
        "spend_reporting",
        "leads",
        "cost_per_lead",
        "deals_created",
        "new_customers",
        "won_revenue_reporting",
        "cac",
        "roas",
        "roi",
        "is_mature",
    ),
}
MART_KEYS: dict[str, tuple[str, ...]] = {
    "fct_ad_spend_daily": ("platform", "account_id", "campaign_id", "spend_date"),
    "mart_marketing_roi_monthly": ("month", "channel"),
}
PLATFORM_CHANNEL = {"google_ads": "paid_search", "meta": "paid_social"}
COUNT_COLUMNS = frozenset({"leads", "deals_created", "new_customers", "impressions", "clicks"})


def spend_rows(
    spend_days: Iterable[Mapping[str, Any]],
    channel_mapping: Iterable[Mapping[str, Any]],
    rates: funnel.RateTable,
    *,
    as_of_date: date,
    reporting_currency: str = "USD",
) -> list[Row]:
    """``fct_ad_spend_daily``: "one row per platform × account × campaign × day with activity";
    "`channel` (`paid_search` for Google Ads, `paid_social` for Meta, unless the seed
    `campaign_channel_mapping` (platform, campaign_id → channel) says otherwise)";
    "`spend_reporting` (rate dated on or before the day)"; "Spend dated after `as_of_date` is left
    out of the marts"; "Rows the API returns with spend 0 (impressions only) count"."""
    mapping = {(m["platform"], str(m["campaign_id"])): str(m["channel"]).lower() for m in channel_mapping}
    out = []
    for s in spend_days:
        day = s["day"]
        if day > as_of_date:
            continue
        rate = (
            1.0 if s["currency_code"] == reporting_currency else rates.rate(s["currency_code"], reporting_currency, day)
        )
        if rate is None:
            raise ReferenceError(f"no {s['currency_code']}->{reporting_currency} rate on or before {day}")
        out.append(
            {
                "spend_date": day,
                "platform": s["platform"],
                "account_id": s["account_id"],
                "campaign_id": s["campaign_id"],
                "campaign_name": s["campaign_name"],
                "channel": mapping.get((s["platform"], s["campaign_id"]), PLATFORM_CHANNEL[s["platform"]]),
                "currency_code": s["currency_code"],
                "spend": float(s["spend"]),
                "spend_reporting": float(s["spend"]) * rate,
                "impressions": int(s["impressions"]),
                "clicks": int(s["clicks"]),
                "platform_conversions": float(s["platform_conversions"]),
            }
        )
    return out


def quantile_cont(values: list[float], q: float) -> float | None:
    """Continuous quantile (linear interpolation between closest ranks), as `quantile_cont`."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _ratio(num: float, den: float, spend: float) -> float | None:
    """ "The four ratios are null when the channel had no spend that month or their denominator
    is 0 (never infinity)\""""
    if spend <= 0 or den == 0:
        return None
    return num / den


def marketing_channel(source: str, channel: str, lead_channel_mapping: Iterable[Mapping[str, Any]]) -> str:
    """The lead's channel as the ROI mart reports it: the ``lead_channel_mapping`` row of its
    (source, channel), else the channel as it is (decision recorded in docs/decisions.md)."""
    for m in lead_channel_mapping:
        if m["source"] == source and m["channel"] == channel:
            return str(m["marketing_channel"])
    return channel


def deal_lead(deal: Mapping[str, Any], deal_leads: Mapping[str, str]) -> tuple[str, str] | None:
    """ "`deals_created` (live deals created before `as_of` whose `primary_contact_id` is a lead
    of the cohort; Pipedrive: whose `source_lead_id` is)": the (source, lead id) to look up."""
    lead = deal_leads.get(deal["deal_id"]) if deal["source"] == "pipedrive" else deal["primary_contact_id"]
    return None if lead is None else (deal["source"], str(lead))


def roi_rows(
    fct_spend: list[Row],
    leads: list[Row],
    deals: list[Row],
    *,
    as_of_date: date,
    lead_channel_mapping: Iterable[Mapping[str, Any]] = (),
    deal_leads: Mapping[str, str] | None = None,
) -> list[Row]:
    """``mart_marketing_roi_monthly``: "one row per month × channel with spend or leads"; leads
    "every CRM source together"; "a cohort is the lead's UTC creation month and its channel the
    current one. Spend joins by channel and the month of `spend_date`. Counts and money sums are
    0 when there is nothing to add." `deals_created`: "live deals created before `as_of` whose
    `primary_contact_id` is a lead of the cohort"; `new_customers`: "distinct such leads with a
    won deal by `as_of`"; `won_revenue_reporting`: "Σ `amount_reporting` of those won deals"."""
    spend: dict[tuple[date, str], float] = defaultdict(float)
    for s in fct_spend:
        spend[month_of(s["spend_date"]), s["channel"]] += s["spend_reporting"]
    mapping = list(lead_channel_mapping)
    cohort_of: dict[tuple[str, str], tuple[date, str]] = {}
    lead_count: dict[tuple[date, str], int] = defaultdict(int)
    for lead in leads:
        channel = marketing_channel(lead["source"], lead["channel"], mapping)
        key = (month_of(to_utc(lead["created_at"])), channel)
        cohort_of[lead["source"], str(lead["source_lead_id"])] = key
        lead_count[key] += 1
    deals_created: dict[tuple[date, str], int] = defaultdict(int)
    customers: dict[tuple[date, str], set] = defaultdict(set)
    revenue: dict[tuple[date, str], float] = defaultdict(float)
    for d in deals:
        lead_key = deal_lead(d, deal_leads or {})
        if lead_key is None or lead_key not in cohort_of:
            continue
        key = cohort_of[lead_key]
        deals_created[key] += 1
        if d["outcome"] == "won":
            customers[key].add(lead_key)
            revenue[key] += d["amount_reporting"] or 0.0
    p90 = quantile_cont([d["cycle_days"] for d in deals if d["outcome"] == "won"], 0.9)
    as_of = as_of_instant(as_of_date)
    out = []
    for month, channel in sorted(set(spend) | set(lead_count)):
        key = (month, channel)
        s, n_leads, rev = spend.get(key, 0.0), lead_count.get(key, 0), revenue.get(key, 0.0)
        n_customers = len(customers.get(key, ()))
        month_end = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        days_since_end = (as_of - datetime(month_end.year, month_end.month, 1)).total_seconds() / 86400
        out.append(
            {
                "month": month,
                "channel": channel,
                "spend_reporting": s,
                "leads": n_leads,
                "cost_per_lead": _ratio(s, n_leads, s),
                "deals_created": deals_created.get(key, 0),
                "new_customers": n_customers,
                "won_revenue_reporting": rev,
                "cac": _ratio(s, n_customers, s),
                "roas": _ratio(rev, s, s),
                "roi": _ratio(rev - s, s, s),
                "is_mature": p90 is not None and days_since_end >= p90,
            }
        )
    return out


# ---------------------------------------------------------------- from the sandbox truth


def spend_days_from_truth(db: Path | str) -> list[Row]:
    """The ad truth as generic ``spend_days`` (names are the campaigns' current names)."""
    from emulators.truth import ads

    accounts = {(a["platform"], a["account_id"]): a for a in ads.accounts(db)}
    campaigns = {(c["platform"], c["campaign_id"]): c for c in ads.campaigns(db)}
    out = []
    for s in ads.stats(db):
        out.append(
            {
                "platform": s["platform"],
                "account_id": s["account_id"],
                "campaign_id": s["campaign_id"],
                "day": date.fromisoformat(s["day"]),
                "campaign_name": campaigns[s["platform"], s["campaign_id"]]["name"],
                "currency_code": accounts[s["platform"], s["account_id"]]["currency"],
                "spend": s["spend_micros"] / 1_000_000,
                "impressions": s["impressions"],
                "clicks": s["clicks"],
                "platform_conversions": s["conversions"] if s["platform"] == "google_ads" else s["lead_actions"],
            }
        )
    return out


def leads_from_inputs(contacts: Iterable[Mapping[str, Any]], as_of_date: date) -> list[Row]:
    """Leads as in ``mart_lead_volume_daily``: live contacts created before ``as_of``."""
    as_of = as_of_instant(as_of_date)
    return [
        {
            "source": c["source"],
            "source_lead_id": str(c["source_contact_id"]),
            "created_at": c["created_at"],
            "channel": funnel.channel_of(c.get("channel")),
        }
        for c in contacts
        if funnel.is_live(c) and to_utc(c["created_at"]) < as_of
    ]


def marketing_marts_from_truth(
    truth: Any,
    db: Path | str,
    *,
    as_of_date: date,
    seeds_dir: Path | str,
    reporting_currency: str = "USD",
    with_pipedrive: bool = False,
) -> dict[str, list[Row]]:
    """Both marketing marts from the sandbox truth and the seeds in ``seeds_dir``; with
    ``with_pipedrive`` the sandbox's Pipedrive leads and deals join HubSpot's ("every CRM source
    together")."""
    seeds = Path(seeds_dir)
    crm = funnel.marts_from_truth(truth, as_of_date=as_of_date, seeds_dir=seeds, reporting_currency=reporting_currency)
    leads = leads_from_inputs(funnel.hubspot_inputs(truth)["contacts"], as_of_date)
    deals = list(crm["fct_deals"])
    deal_leads: dict[str, str] = {}
    if with_pipedrive:
        from tests.reference import pipedrive

        inputs = pipedrive.pipedrive_inputs(db)
        pd_marts = pipedrive.pipedrive_marts_from_truth(
            db, as_of_date=as_of_date, seeds_dir=seeds, reporting_currency=reporting_currency
        )
        leads += leads_from_inputs(inputs["leads"], as_of_date)
        deals += pd_marts["fct_deals"]
        deal_leads = {
            funnel.deal_key(link["source"], link["source_deal_id"]): str(link["source_contact_id"])
            for link in inputs["lead_links"]
        }
    rates = funnel.RateTable(read_seed(seeds / "currency_rates.csv"))
    fct = spend_rows(
        spend_days_from_truth(db),
        read_seed(seeds / "campaign_channel_mapping.csv"),
        rates,
        as_of_date=as_of_date,
        reporting_currency=reporting_currency,
    )
    return {
        "fct_ad_spend_daily": fct,
        "mart_marketing_roi_monthly": roi_rows(
            fct,
            leads,
            deals,
            as_of_date=as_of_date,
            lead_channel_mapping=read_seed(seeds / "lead_channel_mapping.csv"),
            deal_leads=deal_leads,
        ),
    }
