"""The Google Ads and Meta clients against their emulators over real HTTP: auth flows, errors
that say what to do, quota and throttling honoured, paging, secrets never in a message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from connectors.common import AuthError, ConnectorError, RateLimitExhausted
from connectors.google_ads import GoogleAdsClient, GoogleAdsSource
from connectors.google_ads.schema import stats_query
from connectors.meta import MetaClient, MetaSource
from emulators.google_ads.server import GoogleAdsServer, quota_error
from emulators.jsonserver import Fault, Response
from emulators.meta.server import MetaServer, graph_error
from emulators.truth import ads
from emulators.truth.generator import SandboxConfig, build_sandbox

CREDS = {
    "developer_token": "dev-tok-canary-11aa",
    "client_id": "client-1.apps.googleusercontent.com",
    "client_secret": "secret-canary-22bb",
    "refresh_token": "1//refresh-canary-33cc44dd",
}
META_TOKEN = "EAAmetacanary5566778899aabb"
MANAGER = "1112223333"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sandbox(
        SandboxConfig(seed=11, n_contacts=300, n_deals=100), tmp_path_factory.mktemp("ads") / "s.sqlite"
    )


@pytest.fixture()
def google(db: Path) -> Iterator[GoogleAdsServer]:
    with GoogleAdsServer(db, credentials=CREDS, retry_delay_s=0.01, batch_rows=50) as srv:
        yield srv


@pytest.fixture()
def meta(db: Path) -> Iterator[MetaServer]:
    with MetaServer(db, token=META_TOKEN) as srv:
        yield srv


def gclient(srv: GoogleAdsServer, texts: list[str], **kw) -> GoogleAdsClient:
    args = {**CREDS, "login_customer_id": MANAGER, **kw}
    return GoogleAdsClient(
        srv.base_url, srv.base_url + "/token", backoff_base_s=0.01, progress=lambda m, _c: texts.append(m), **args
    )


def no_secret(texts: list[str]) -> None:
    for secret in (*[v for k, v in CREDS.items() if k != "client_id"], META_TOKEN):
        assert all(secret not in t for t in texts), secret


def test_search_stream_returns_every_batch_with_string_int64(google, db):
    texts: list[str] = []
    rows = gclient(google, texts).search_stream("1234567890", stats_query("2025-10-01", "2026-10-31"))
    truth = ads.stats(db, "google_ads", "1234567890", "2025-10-01", "2026-10-31")
    assert len(rows) == len(truth) > 50  # several batches
    assert isinstance(rows[0]["campaign"]["id"], str)
    zero = [r for r in rows if "costMicros" not in r.get("metrics", {})]
    assert zero, "zero cost is left out, as proto3 JSON does"
    no_secret(texts)


def test_expired_access_token_is_refreshed_once(google):
    texts: list[str] = []
    client = gclient(google, texts)
    client.search_stream("1234567890", "SELECT customer.id FROM customer")
    google.expire_tokens()
    client.search_stream("1234567890", "SELECT customer.id FROM customer")
    assert google.tokens_issued == 2 and client.stats["token_refreshes"] == 2


@pytest.mark.parametrize(
    ("kwargs", "server_kw", "needle"),
    [
        ({"login_customer_id": None}, {}, "GOOGLE_ADS_LOGIN_CUSTOMER_ID"),
        ({}, {"dev_token_approved": False}, "DEVELOPER_TOKEN_NOT_APPROVED"),
        ({"refresh_token": "1//revoked-refresh-token-xyz"}, {}, "GOOGLE_ADS_REFRESH_TOKEN"),
        ({"client_secret": "wrong-secret-9999"}, {}, "GOOGLE_ADS_CLIENT_SECRET"),
    ],
)
def test_auth_errors_say_what_to_fix(db, kwargs, server_kw, needle):
    texts: list[str] = []
    with GoogleAdsServer(db, credentials=CREDS, **server_kw) as srv, pytest.raises(AuthError, match=needle) as info:
        gclient(srv, texts, **kwargs).search_stream("1234567890", "SELECT customer.id FROM customer")
    texts.append(str(info.value))
    no_secret(texts)


def test_quota_errors_honour_retry_delay_and_the_daily_quota_stops(google):
    waits: list[float] = []
    client = gclient(google, [], sleep=waits.append)
    google.inject_faults(Fault("searchStream", quota_error("RESOURCE_TEMPORARILY_EXHAUSTED", 7.0), times=2))
    client.search_stream("1234567890", "SELECT customer.id FROM customer")
    assert waits == [7.0, 7.0] and client.stats["throttled"] == 2
    google.inject_faults(Fault("searchStream", quota_error("RESOURCE_EXHAUSTED", None)))
    with pytest.raises(RateLimitExhausted, match="daily"):
        client.search_stream("1234567890", "SELECT customer.id FROM customer")


def test_bad_gaql_is_a_clear_error(google):
    with pytest.raises(ConnectorError, match="EXPECTED_FILTERS_ON_DATE_RANGE"):
        gclient(google, []).search_stream("1234567890", "SELECT campaign.id, segments.date FROM campaign")


def test_google_source_backfills_then_rereads_the_window(google, db):
    source = GoogleAdsSource(gclient(google, []), ["1234567890", "9876543210"], start_date=date(2025, 6, 1))
    batches = list(source.sync("campaign_stats", None, now=NOW))
    assert sum(b.record_count for b in batches) == len(ads.stats(db, "google_ads"))
    again = list(source.sync("campaign_stats", batches[-1].cursor, now=NOW))
    assert all(b.stats["mode"] == "re-read window" for b in again)
    days = sorted(d.split(":")[1] for b in again for w in b.writes for d in w.replace_ids if d.startswith("1234"))
    latest = max(s["day"] for s in ads.stats(db, "google_ads", "1234567890"))
    # 30 days ending on the latest day with activity, through tomorrow (UTC)
    assert (days[0], days[-1]) == ((date.fromisoformat(latest) - timedelta(days=29)).isoformat(), "2026-12-02")


def test_meta_pages_until_next_is_absent_and_counts_every_row(meta, db):
    client = MetaClient(meta.base_url, META_TOKEN, backoff_base_s=0.01)
    source = MetaSource(client, ["act_101000000000001", "101000000000002"], start_date=date(2025, 6, 1), page_limit=20)
    batches = list(source.sync("insights", None, now=NOW))
    assert sum(b.record_count for b in batches) == len(ads.stats(db, "meta"))
    assert max(b.stats["pages"] for b in batches) > 1
    campaigns = list(source.sync("campaigns", None, now=NOW))
    assert sum(len(b.writes[0].rows) for b in campaigns) == len(ads.campaigns(db, "meta"))


@pytest.mark.parametrize("code", [17, 4, 613, 80000])
def test_meta_throttling_is_recognised_by_error_code(meta, code):
    waits: list[float] = []
    client = MetaClient(meta.base_url, META_TOKEN, backoff_base_s=0.01, sleep=waits.append)
    usage = '{"1": [{"type": "ads_insights", "call_count": 100, "estimated_time_to_regain_access": 2}]}'
    fault = graph_error(code, f"(#{code}) limit reached")
    fault.headers["x-business-use-case-usage"] = usage
    meta.inject_faults(Fault("act_101000000000001", fault))
    body = client.get("act_101000000000001", {"fields": "account_id,currency"})
    assert body["currency"] == "USD" and waits == [120.0] and client.stats["throttled"] == 1


def test_meta_bad_token_and_unknown_account(meta):
    texts: list[str] = []
    with pytest.raises(AuthError, match="META_ACCESS_TOKEN") as info:
        MetaClient(meta.base_url, "EAAwrongtoken000000000000000").get("act_101000000000001")
    texts.append(str(info.value))
    with pytest.raises(ConnectorError, match="META_AD_ACCOUNT_IDS"):
        MetaClient(meta.base_url, META_TOKEN).get("act_999")
    meta.inject_faults(
        Fault(
            "act_1",
            Response(500, {"error": {"code": 2, "message": f"echo {META_TOKEN}", "is_transient": True}}),
            times=9,
        )
    )
    with pytest.raises(ConnectorError) as info:
        MetaClient(meta.base_url, META_TOKEN, backoff_base_s=0.001, max_retries=2).get("act_101000000000001")
    texts.append(str(info.value))
    no_secret(texts)
