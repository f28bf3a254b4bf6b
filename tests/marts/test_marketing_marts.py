"""The marketing marts (docs/metrics.md) equal the plain-Python reference computed from the sandbox's
ground truth, row by row, and the edge cases the contract names are really in the data."""

from __future__ import annotations

import math
from datetime import date

import pytest

from tests.marts.compare import compare_rows, read_mart
from tests.reference.marketing import MART_COLUMNS, marketing_marts_from_truth

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reference(demo_warehouse) -> dict[str, list[dict]]:
    return marketing_marts_from_truth(
        demo_warehouse.truth,
        demo_warehouse.sandbox_db,
        as_of_date=demo_warehouse.as_of_date,
        seeds_dir=demo_warehouse.seeds_dir,
    )


@pytest.fixture(scope="module")
def roi(demo_warehouse) -> dict[tuple, dict]:
    _, rows = read_mart(demo_warehouse.warehouse, "mart_marketing_roi_monthly")
    return {(r["month"], r["channel"]): r for r in rows}


@pytest.mark.parametrize("mart", sorted(MART_COLUMNS))
def test_marketing_mart_matches_reference(demo_warehouse, reference, mart):
    columns, rows = read_mart(demo_warehouse.warehouse, mart)
    expected = reference[mart]
    assert expected, f"the reference computed no rows for {mart}"
    diff = compare_rows(mart, rows, expected, columns)
    assert not diff, diff.report()


def test_spend_covers_both_platforms_currencies_and_a_removed_campaign(demo_warehouse):
    _, rows = read_mart(demo_warehouse.warehouse, "fct_ad_spend_daily")
    assert {r["platform"] for r in rows} == {"google_ads", "meta"}
    eur = [r for r in rows if r["currency_code"] == "EUR"]
    assert eur and all(r["spend_reporting"] != r["spend"] for r in eur if r["spend"] > 0)
    assert any(r["campaign_id"] == "20000000213" for r in rows), "the removed campaign's history is kept"
    assert any(r["spend"] == 0 and r["impressions"] > 0 for r in rows), "impressions-only days count"
    assert max(r["spend_date"] for r in rows) == demo_warehouse.as_of_date, "days after as_of_date are left out"


def test_meta_conversions_are_the_lead_action_only(demo_warehouse):
    from emulators.truth import ads

    truth = {(s["campaign_id"], s["day"]): s["lead_actions"] for s in ads.stats(demo_warehouse.sandbox_db, "meta")}
    _, rows = read_mart(demo_warehouse.warehouse, "fct_ad_spend_daily")
    meta = [r for r in rows if r["platform"] == "meta" and r["platform_conversions"]]
    assert meta
    for r in meta:  # three overlapping lead types are served; only `lead` counts
        assert r["platform_conversions"] == truth[r["campaign_id"], r["spend_date"].isoformat()]


def test_channel_with_leads_and_no_spend_has_null_ratios(roi):
    organic = [r for (m, c), r in roi.items() if c == "organic_search"]
    assert organic
    for r in organic:
        assert r["spend_reporting"] == 0 and r["leads"] > 0
        assert (r["cost_per_lead"], r["cac"], r["roas"], r["roi"]) == (None, None, None, None)


def test_month_with_spend_and_no_leads(roi):
    r = roi[date(2025, 10, 1), "paid_search"]  # the launch campaign, before the first lead
    assert r["spend_reporting"] > 0 and r["leads"] == 0
    assert r["cost_per_lead"] is None and r["cac"] is None and r["roas"] == 0 and r["roi"] == -1
    assert any(c == "display" and r["leads"] == 0 for (m, c), r in roi.items()), "the seed's remapped channel"


def test_no_ratio_is_infinite_and_paid_channels_have_figures(roi):
    for r in roi.values():
        for col in ("cost_per_lead", "cac", "roas", "roi"):
            assert r[col] is None or math.isfinite(r[col])
    paid = [
        r for (m, c), r in roi.items() if c in ("paid_search", "paid_social") and r["leads"] and r["spend_reporting"]
    ]
    assert paid and any(r["new_customers"] > 0 and r["cac"] is not None for r in paid)


def test_kpi_summary_paid_channels_match_the_reference(demo_warehouse, reference):
    from warehouse.summary import paid_channel_summary

    got = paid_channel_summary(demo_warehouse.warehouse.parent / "published" / "sales_marts.duckdb")
    rows = reference["mart_marketing_roi_monthly"]
    spend_channels = {r["channel"] for r in rows if r["spend_reporting"] > 0}
    assert set(got) == spend_channels and {"paid_search", "paid_social"} <= spend_channels
    for channel, k in got.items():
        mine = [r for r in rows if r["channel"] == channel]
        spend = sum(r["spend_reporting"] for r in mine)
        leads = sum(r["leads"] for r in mine)
        customers = sum(r["new_customers"] for r in mine)
        revenue = sum(r["won_revenue_reporting"] for r in mine)
        assert k["spend"] == pytest.approx(spend, rel=1e-9) and k["leads"] == leads
        assert k["cost_per_lead"] == (pytest.approx(spend / leads, rel=1e-9) if leads else None)
        assert k["cac"] == (pytest.approx(spend / customers, rel=1e-9) if customers else None)
        assert k["roas"] == pytest.approx(revenue / spend, rel=1e-9)
