"""The ad truth tells one story with the CRM, and the Google Ads / Meta emulators speak their
APIs' contracts over it (raw HTTP, no connector code)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests

from emulators.google_ads.server import SANDBOX_CREDENTIALS, GoogleAdsServer
from emulators.meta.server import SANDBOX_TOKEN, MetaServer
from emulators.truth import ads, store
from emulators.truth.generator import SandboxConfig, build_sandbox


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sandbox(
        SandboxConfig(seed=7, n_contacts=2000, n_deals=600), tmp_path_factory.mktemp("ads") / "s.sqlite"
    )


def _pearson(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return cov / (sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys)) ** 0.5


def test_spend_rises_with_the_paid_leads_of_each_campaign(db):
    conn = store.connect(db, readonly=True)
    try:
        leads = defaultdict(int)
        for utm, created in conn.execute(
            "SELECT hs_analytics_source_data_2, createdate FROM contacts WHERE hs_analytics_source = 'PAID_SEARCH'"
        ):
            leads[utm, datetime.fromtimestamp(created / 1000, UTC).strftime("%Y-%m")] += 1
    finally:
        conn.close()
    utm_of = {c["campaign_id"]: c["utm_campaign"] for c in ads.campaigns(db, "google_ads")}
    spend = defaultdict(float)
    for s in ads.stats(db, "google_ads"):
        if utm_of[s["campaign_id"]]:
            spend[utm_of[s["campaign_id"]], s["day"][:7]] += s["spend_micros"] / 1e6
    for utm in {u for u in utm_of.values() if u}:  # month by month, per campaign
        keys = sorted(k for k in spend if k[0] == utm and k in leads)
        assert len(keys) >= 10
        assert _pearson([spend[k] for k in keys], [leads[k] for k in keys]) > 0.8, utm


def test_the_ad_truth_has_the_edge_cases(db):
    accounts = ads.accounts(db)
    assert {a["currency"] for a in accounts} == {"USD", "EUR"} and len({a["time_zone"] for a in accounts}) >= 2
    statuses = {c["status"] for c in ads.campaigns(db)}
    assert {"REMOVED", "PAUSED", "ENABLED"} <= statuses
    rows = ads.stats(db)
    assert any(r["spend_micros"] == 0 and r["impressions"] > 0 for r in rows)
    assert max(r["day"] for r in rows) > "2026-10-31"  # spend after the as-of day exists
    assert min(r["day"] for r in rows) == "2025-10-01"  # a month before the first lead


def _token(url: str) -> str:
    form = {"grant_type": "refresh_token", **{k: v for k, v in SANDBOX_CREDENTIALS.items() if k != "developer_token"}}
    return requests.post(url + "/token", data=form, timeout=5).json()["access_token"]


def test_google_search_stream_contract(db):
    with GoogleAdsServer(db, batch_rows=100) as srv:
        headers = {
            "Authorization": f"Bearer {_token(srv.base_url)}",
            "developer-token": SANDBOX_CREDENTIALS["developer_token"],
            "login-customer-id": ads.MANAGER_ID,
        }
        url = f"{srv.base_url}/v26/customers/9876543210/googleAds:searchStream"
        q = (
            "SELECT customer.id, customer.currency_code, campaign.id, segments.date, metrics.cost_micros "
            "FROM campaign WHERE segments.date BETWEEN '2026-01-01' AND '2026-03-31'"
        )
        body = requests.post(url, json={"query": q}, headers=headers, timeout=10).json()
        assert isinstance(body, list) and len(body) > 1 and all("fieldMask" in b for b in body)
        first = body[0]["results"][0]
        assert first["customer"]["currencyCode"] == "EUR" and isinstance(first["campaign"]["id"], str)
        assert isinstance(first.get("metrics", {}).get("costMicros", ""), str)
        # segments.date needs a finite range; a managed account needs login-customer-id
        bad = requests.post(url, json={"query": "SELECT segments.date FROM campaign"}, headers=headers, timeout=5)
        assert bad.status_code == 400 and "EXPECTED_FILTERS_ON_DATE_RANGE" in bad.text
        denied = requests.post(url, json={"query": q}, headers={**headers, "login-customer-id": ""}, timeout=5)
        assert denied.status_code == 403 and "USER_PERMISSION_DENIED" in denied.text
        assert requests.post(url, json={"query": q}, timeout=5).status_code == 401


def test_meta_insights_paging_and_errors(db):
    with MetaServer(db) as srv:
        url = f"{srv.base_url}/v25.0/act_101000000000002/insights"
        params = {
            "level": "campaign",
            "time_increment": "1",
            "fields": "campaign_id,spend,actions,date_start,account_currency",
            "time_range": json.dumps({"since": "2026-01-01", "until": "2026-01-31"}),
            "limit": "25",
            "access_token": SANDBOX_TOKEN,
        }
        rows, pages, page = [], 0, requests.get(url, params=params, timeout=5).json()
        while True:
            pages += 1
            rows += page["data"]
            if "next" not in page.get("paging", {}):
                break
            assert SANDBOX_TOKEN not in page["paging"]["next"]
            page = requests.get(page["paging"]["next"], params={"access_token": SANDBOX_TOKEN}, timeout=5).json()
        truth = ads.stats(db, "meta", "101000000000002", "2026-01-01", "2026-01-31")
        assert pages > 1 and len(rows) == len(truth)
        assert all(isinstance(r["spend"], str) and r["account_currency"] == "EUR" for r in rows)
        bad = requests.get(url, params={**params, "access_token": "EAAwrong"}, timeout=5)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == 190
        assert "x-business-use-case-usage" in requests.get(url, params=params, timeout=5).headers


def test_fail_rate_serves_the_apis_own_transient_errors(db):
    with MetaServer(db, fail_rate=0.5, fail_seed=3) as srv:
        url = f"{srv.base_url}/v25.0/act_101000000000001"
        codes = [requests.get(url, params={"access_token": SANDBOX_TOKEN}, timeout=5) for _ in range(40)]
    failed = [r for r in codes if r.status_code != 200]
    assert 8 < len(failed) < 32
    assert {r.json()["error"]["code"] for r in failed} <= {17, 4, 80000, 2}


def test_mutations_change_what_the_apis_return(tmp_path, db):
    import shutil

    copy = tmp_path / "m.sqlite"
    shutil.copy(db, copy)
    day = ads.stats(copy, "meta", "101000000000001")[-5]
    ads.restate_day(copy, "meta", day["campaign_id"], day["day"], 2.0)
    ads.rename_campaign(copy, "meta", day["campaign_id"], "Renamed")
    after = next(s for s in ads.stats(copy, "meta") if (s["campaign_id"], s["day"]) == (day["campaign_id"], day["day"]))
    assert after["spend_micros"] == pytest.approx(2 * day["spend_micros"], abs=10_000)
    assert {c["name"] for c in ads.campaigns(copy, "meta") if c["campaign_id"] == day["campaign_id"]} == {"Renamed"}
    assert date.fromisoformat(day["day"])  # days are ISO dates
