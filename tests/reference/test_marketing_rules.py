"""The marketing reference on hand-made inputs: each rule of contract §8 with a figure worked out
by hand (so the reference itself is tested, not only its agreement with dbt)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.reference.funnel import RateTable, ReferenceError
from tests.reference.marketing import quantile_cont, roi_rows, spend_rows

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
