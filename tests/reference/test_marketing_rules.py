"""The marketing reference on hand-made inputs: each rule of docs/metrics.md with a figure worked out
by hand (so the reference itself is tested, not only its agreement with dbt)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.reference.funnel import RateTable, ReferenceError
from tests.reference.marketing import marketing_channel, quantile_cont, roi_rows, spend_rows

RATES = RateTable(
    [
        {"rate_date": "2026-01-01", "currency_code": "EUR", "reporting_currency": "USD", "rate": "1.10"},
        {"rate_date": "2026-02-01", "currency_code": "EUR", "reporting_currency": "USD", "rate": "1.20"},
    ]
)
AS_OF = date(2026, 10, 31)


def day(platform, campaign, d, spend, currency="USD", name="C"):
    return {
        "platform": platform, "account_id": "1", "campaign_id": campaign, "day": d, "campaign_name": name,
        "currency_code": currency, "spend": spend, "impressions": 10, "clicks": 1, "platform_conversions": 0,
    }  # fmt: skip


def test_eur_spend_uses_the_rate_dated_on_or_before_the_day_and_later_days_are_left_out():
    rows = spend_rows(
        [
            day("meta", "9", date(2026, 1, 31), 10.0, "EUR"),
            day("meta", "9", date(2026, 2, 1), 10.0, "EUR"),
            day("google_ads", "8", date(2026, 11, 1), 5.0),
        ],
        [],
        RATES,
        as_of_date=AS_OF,
    )
    assert [r["spend_reporting"] for r in rows] == [pytest.approx(11.0), pytest.approx(12.0)]
    assert {r["channel"] for r in rows} == {"paid_social"}


def test_missing_rate_blocks_and_the_seed_overrides_the_channel():
    with pytest.raises(ReferenceError, match="JPY"):
        spend_rows([day("google_ads", "8", date(2026, 3, 1), 5.0, "JPY")], [], RATES, as_of_date=AS_OF)
    rows = spend_rows(
        [day("meta", "7", date(2026, 3, 1), 5.0)],
        [{"platform": "meta", "campaign_id": "7", "channel": "Display"}],
        RATES,
        as_of_date=AS_OF,
    )
    assert rows[0]["channel"] == "display"


def test_roi_rules_leads_without_spend_spend_without_leads():
    spend = [
        {"spend_date": date(2026, 1, 3), "channel": "paid_search", "spend_reporting": 200.0},
        {"spend_date": date(2026, 2, 1), "channel": "paid_social", "spend_reporting": 50.0},
    ]
    leads = [
        {"source": "hubspot", "source_lead_id": "1", "created_at": datetime(2026, 1, 5), "channel": "paid_search"},
        {"source": "hubspot", "source_lead_id": "2", "created_at": datetime(2026, 1, 20), "channel": "paid_search"},
        {"source": "hubspot", "source_lead_id": "3", "created_at": datetime(2026, 1, 10), "channel": "organic_search"},
    ]
    deals = [
        {
            "source": "hubspot",
            "primary_contact_id": "1",
            "outcome": "won",
            "amount_reporting": 1000.0,
            "cycle_days": 10.0,
        },
        {
            "source": "hubspot",
            "primary_contact_id": "1",
            "outcome": "won",
            "amount_reporting": None,
            "cycle_days": 20.0,
        },
        {
            "source": "hubspot",
            "primary_contact_id": "3",
            "outcome": "open",
            "amount_reporting": 5.0,
            "cycle_days": None,
        },
    ]
    rows = {(r["month"], r["channel"]): r for r in roi_rows(spend, leads, deals, as_of_date=AS_OF)}
    paid = rows[date(2026, 1, 1), "paid_search"]
    assert (paid["leads"], paid["deals_created"], paid["new_customers"]) == (2, 2, 1)
    assert (paid["cost_per_lead"], paid["cac"], paid["roas"], paid["roi"]) == (100.0, 200.0, 5.0, 4.0)
    organic = rows[date(2026, 1, 1), "organic_search"]
    assert (organic["spend_reporting"], organic["cost_per_lead"], organic["roas"], organic["roi"]) == (
        0.0,
        None,
        None,
        None,
    )
    social = rows[date(2026, 2, 1), "paid_social"]
    assert (social["leads"], social["cost_per_lead"], social["cac"], social["roas"], social["roi"]) == (
        0,
        None,
        None,
        0.0,
        -1.0,
    )
    assert all(r["is_mature"] for r in rows.values())  # p90 of 10 and 20 days = 19 days
    young = roi_rows(spend, leads, deals, as_of_date=date(2026, 2, 15))
    assert not any(r["is_mature"] for r in young if r["month"] == date(2026, 2, 1))


def test_quantile_cont_interpolates():
    assert quantile_cont([10.0, 20.0], 0.9) == pytest.approx(19.0)
    assert quantile_cont([], 0.9) is None and quantile_cont([3.0], 0.9) == 3.0


def test_pipedrive_converted_lead_counts_by_source_lead_id_and_its_label_maps_to_paid_search():
    """A Pipedrive lead labelled `paid search` joins HubSpot's `paid_search` leads and the spend;
    its deal counts through the deal's `source_lead_id`, never through the person id."""
    spend = [{"spend_date": date(2026, 3, 3), "channel": "paid_search", "spend_reporting": 150.0}]
    lead_id = "5f0c2a1e-0b1d-4c2e-9f3a-1b2c3d4e5f60"
    leads = [
        {"source": "hubspot", "source_lead_id": "1", "created_at": datetime(2026, 3, 5), "channel": "paid_search"},
        {
            "source": "pipedrive",
            "source_lead_id": lead_id,
            "created_at": datetime(2026, 3, 9),
            "channel": "paid search",
        },
        {"source": "pipedrive", "source_lead_id": "x-2", "created_at": datetime(2026, 3, 12), "channel": "trade show"},
    ]
    won = {"source": "pipedrive", "outcome": "won", "cycle_days": 5.0}
    deals = [
        {**won, "deal_id": "pipedrive:41", "primary_contact_id": "1", "amount_reporting": 300.0},
        {**won, "deal_id": "pipedrive:42", "primary_contact_id": "1", "amount_reporting": 900.0},  # no lead
    ]
    mapping = [
        {"source": "hubspot", "channel": "paid_search", "marketing_channel": "paid_search"},
        {"source": "pipedrive", "channel": "paid search", "marketing_channel": "paid_search"},
    ]
    rows = roi_rows(
        spend, leads, deals, as_of_date=AS_OF, lead_channel_mapping=mapping, deal_leads={"pipedrive:41": lead_id}
    )
    by_channel = {r["channel"]: r for r in rows}
    assert set(by_channel) == {"paid_search", "trade show"}  # an unmapped label stays as it is
    paid = by_channel["paid_search"]
    assert (paid["leads"], paid["deals_created"], paid["new_customers"], paid["won_revenue_reporting"]) == (
        2,
        1,
        1,
        300.0,
    )
    assert (paid["cost_per_lead"], paid["cac"], paid["roas"], paid["roi"]) == (75.0, 150.0, 2.0, 1.0)
    assert by_channel["trade show"]["deals_created"] == 0


def test_lead_channel_mapping_seed_maps_every_sandbox_pipedrive_label_to_its_hubspot_channel():
    """Each Source-channel option the Pipedrive truth generates stands for one HubSpot channel
    (``CHANNEL_OF_HUBSPOT``); the seed maps its lower-cased label onto that channel, and HubSpot's
    channels onto themselves, so Pipedrive's paid leads meet the ad spend."""
    from emulators.truth import pipedrive as pd
    from tests.conftest import ROOT
    from tests.reference.funnel import read_seed

    mapping = read_seed(ROOT / "dbt_project" / "seeds" / "lead_channel_mapping.csv")
    label = dict(pd.CHANNEL_OPTIONS)
    for hubspot_channel, option in pd.CHANNEL_OF_HUBSPOT.items():
        canonical = hubspot_channel.lower()
        assert marketing_channel("pipedrive", label[option].lower(), mapping) == canonical
        assert marketing_channel("hubspot", canonical, mapping) == canonical
    assert marketing_channel("pipedrive", "paid search", mapping) == "paid_search"
    assert marketing_channel("pipedrive", "unknown", mapping) == "unknown"
