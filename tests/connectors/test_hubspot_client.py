"""HubSpotClient over real HTTP against the sandbox: retries, rate limits, auth, secrets."""

from __future__ import annotations

import socket
import time
import traceback
from pathlib import Path

import pytest

from connectors.common import AuthError, ConnectorError, RateLimitExhausted
from connectors.hubspot.client import HubSpotClient
from emulators.hubspot.server import Fault, SandboxServer
from tests.connectors.hubspot_helpers import (  # noqa: F401  (db/server fixtures)
    TOKEN,
    RecordingSession,
    db_fixture,
    make_client,
    server_fixture,
)

OWNERS = "/crm/v3/owners"
SEARCH = "/crm/v3/objects/contacts/search"


def test_get_and_list_paging(server: SandboxServer) -> None:
    client = make_client(server.base_url)
    pages = list(client.iter_list_pages(OWNERS, {"limit": 3}))
    ids = [o["id"] for p in pages for o in p["results"]]
    assert len(pages) >= 2 and len(ids) == len(set(ids))
    assert client.stats["requests"] == len(pages)


def test_429_with_retry_after_waits_that_long(server: SandboxServer) -> None:
    server.inject_faults(Fault(OWNERS, 429, headers={"Retry-After": "1"}))
    client = make_client(server.base_url)
    start = time.monotonic()
    client.get(OWNERS, {"limit": 1})
    elapsed = time.monotonic() - start
    assert 0.9 <= elapsed < 3.0  # policy back-off would have been 0.1 s
    assert client.stats["throttled_429"] == 1 and client.stats["retries"] == 1


def test_429_without_retry_after_uses_policy_backoff(server: SandboxServer) -> None:
    waits: list[float] = []
    server.inject_faults(Fault(OWNERS, 429, times=2))  # TEN_SECONDLY_ROLLING body, no header
    client = make_client(server.base_url, sleep=waits.append)
    client.get(OWNERS, {"limit": 1})
    assert waits == pytest.approx([0.1, 0.2])  # 10 x base x attempt
    secondly = {
        "status": "error",
        "message": "You have reached your secondly limit.",
        "errorType": "RATE_LIMIT",
        "policyName": "SECONDLY",
    }
    waits.clear()
    server.inject_faults(Fault(SEARCH, 429, body=secondly, times=1))
    client.post(SEARCH, {"limit": 1})
    assert waits == pytest.approx([0.01])  # 1 x base x attempt for search


def test_daily_limit_fails_fast(server: SandboxServer) -> None:
    daily = {
        "status": "error",
        "message": "You have reached your daily limit.",
        "errorType": "RATE_LIMIT",
        "policyName": "DAILY",
    }
    server.inject_faults(Fault(OWNERS, 429, body=daily, times=5))
    client = make_client(server.base_url)
    before = server.request_count
    with pytest.raises(RateLimitExhausted, match=r"DAILY.*midnight"):
        client.get(OWNERS)
    assert server.request_count - before == 1


def test_daily_limit_from_server_counter(db: Path) -> None:
    with SandboxServer(db, token=TOKEN, daily_limit=2) as srv:
        client = make_client(srv.base_url)
        client.get(OWNERS)
        client.get(OWNERS)
        with pytest.raises(RateLimitExhausted):
            client.get(OWNERS)
        assert srv.request_count == 3


def test_5xx_then_success(server: SandboxServer) -> None:
    server.inject_faults([Fault(OWNERS, 503), Fault(OWNERS, 502), Fault(OWNERS, 524)])
    client = make_client(server.base_url)
    assert client.get(OWNERS)["results"]
    assert client.stats["retries"] == 3 and client.stats["requests"] == 4


def test_5xx_exhausted_gives_actionable_error(server: SandboxServer) -> None:
    server.inject_faults(Fault(OWNERS, 500, times=10))
    client = make_client(server.base_url, max_retries=2)
    with pytest.raises(ConnectorError, match=r"GET /crm/v3/owners failed after 3 attempts.*HTTP 500"):
        client.get(OWNERS)


def test_timeouts_then_success(server: SandboxServer) -> None:
    server.inject_faults(Fault(OWNERS, None, delay_s=0.6, times=2))
    client = make_client(server.base_url, timeout_s=0.2)
    assert client.get(OWNERS)["results"]
    assert client.stats["retries"] == 2


def test_401_fails_immediately(db: Path) -> None:
    with SandboxServer(db, token="the-right-token") as srv:
        client = make_client(srv.base_url, token="a-wrong-token")
        with pytest.raises(AuthError) as err:
            client.get(OWNERS)
        assert srv.request_count == 1
    text = str(err.value)
    assert "401 INVALID_AUTHENTICATION" in text and "HUBSPOT_ACCESS_TOKEN" in text
    assert "crm.objects.deals.read" in text


def test_403_missing_scopes_not_retried(server: SandboxServer) -> None:
    server.inject_faults(Fault("/crm/v3/objects/deals", 403, times=3))
    client = make_client(server.base_url)
    with pytest.raises(AuthError, match="403 MISSING_SCOPES"):
        client.get("/crm/v3/objects/deals")
    assert server.request_count == 1


def test_history_page_over_50_is_a_clear_error(server: SandboxServer) -> None:
    client = make_client(server.base_url)
    with pytest.raises(ConnectorError, match=r"HTTP 400 VALIDATION_ERROR.*limited to 50"):
        client.get("/crm/v3/objects/deals", {"limit": 100, "propertiesWithHistory": "dealstage"})
    assert client.stats["retries"] == 0


def test_search_pages_stop_before_cap(server: SandboxServer) -> None:
    client = make_client(server.base_url)
    pages = list(client.iter_search_pages(SEARCH, {"limit": 100}))
    assert sum(len(p["results"]) for p in pages) == pages[0]["total"]


def test_limiter_keeps_burst_under_limit(server: SandboxServer) -> None:
    session = RecordingSession()
    client = make_client(server.base_url, rate_limit_per_10s=5, rate_window_s=0.5, session=session)
    start = time.monotonic()
    for _ in range(12):
        client.get(OWNERS, {"limit": 1})
    assert time.monotonic() - start >= 1.0  # 12 calls at 5 per 0.5 s need 2 full windows
    stamps = [c[0] for c in session.calls]
    for t in stamps:
        assert sum(1 for u in stamps if t <= u < t + 0.5) <= 5


def test_search_limiter(server: SandboxServer) -> None:
    client = make_client(server.base_url, search_rate_per_s=4.0)
    start = time.monotonic()
    for _ in range(6):
        client.post(SEARCH, {"limit": 1})
    assert time.monotonic() - start >= 0.9


def test_limiter_adapts_to_rate_limit_headers(db: Path) -> None:
    with SandboxServer(db, token=TOKEN, rate_limit_per_10s=20) as srv:
        client = make_client(srv.base_url, rate_limit_per_10s=90)
        client.get(OWNERS)
        assert client._limiter is not None and client._limiter.max_calls == 18


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_canary_token_never_leaks(db: Path) -> None:
    canary = "pat-na1-CANARY-7f3e9c2a-1b4d-4e8f-9a6b-5c3d2e1f0a9b"
    texts: list[str] = []

    def capture(exc: BaseException) -> None:
        texts.extend([str(exc), repr(exc), *map(str, exc.args)])
        texts.append("".join(traceback.format_exception(exc)))

    # 401: the server does not know the canary; the error body echoes it back
    echo = {"status": "error", "message": f"token {canary} is invalid", "category": "INVALID_AUTHENTICATION"}
    with SandboxServer(db, token="something-else") as srv:
        client = make_client(srv.base_url, texts, token=canary)
        texts.append(repr(client))
        with pytest.raises(AuthError) as err:
            client.get(OWNERS)
        capture(err.value)
        srv.inject_faults(Fault(OWNERS, 401, body=echo))
        with pytest.raises(AuthError) as err:
            client.get(OWNERS)
        capture(err.value)
    # 5xx exhausted (body echoing the token) and a 400 echoing it
    with SandboxServer(db, token=canary) as srv:
        client = make_client(srv.base_url, texts, token=canary, max_retries=2)
        srv.inject_faults(Fault(OWNERS, 503, body={"message": f"upstream {canary}"}, times=5))
        with pytest.raises(ConnectorError) as err:
            client.get(OWNERS)
        capture(err.value)
        srv.inject_faults(Fault(OWNERS, 400, body={"message": f"bad {canary}", "category": "VALIDATION_ERROR"}))
        with pytest.raises(ConnectorError) as err:
            client.get(OWNERS)
        capture(err.value)
    # connection refused
    client = make_client(f"http://127.0.0.1:{_free_port()}", texts, token=canary, max_retries=2)
    with pytest.raises(ConnectorError, match="could not connect") as err:
        client.get(OWNERS)
    capture(err.value)
    texts.append(str(client.stats))
    assert texts and any("retry" in t for t in texts)
    leaked = [t for t in texts if canary in t or "CANARY" in t]
    assert not leaked


def test_repr_hides_token() -> None:
    client = HubSpotClient("http://127.0.0.1:1", "pat-na1-secret-value-123456")
    assert "secret" not in repr(client) and "secret" not in str(client)
    assert "secret" not in str(vars(client))


def test_clients_of_one_account_share_the_rate_budget():
    """Dagster builds one client per stream; HubSpot counts the account's calls together."""
    from connectors.hubspot.client import HubSpotClient

    waits: list[float] = []
    a = HubSpotClient("http://127.0.0.1:9", "shared-token", rate_limit_per_10s=3, sleep=waits.append)
    b = HubSpotClient("http://127.0.0.1:9", "shared-token", rate_limit_per_10s=3, sleep=waits.append)
    other = HubSpotClient("http://127.0.0.1:9", "another-token", rate_limit_per_10s=3, sleep=waits.append)
    assert a._limiter is b._limiter
    assert a._limiter is not other._limiter
    for _ in range(3):
        a._limiter.acquire()
    assert waits == []
    # The fourth call of the account, through the other client, has to wait (the fake sleep
    # records the wait instead of sleeping, so the limiter keeps asking until time passes).
    import threading

    t = threading.Thread(target=b._limiter.acquire, daemon=True)
    t.start()
    t.join(0.2)
    assert waits, "the second client did not see the first client's calls"
