"""The Pipedrive client against the emulator over real HTTP: token handling, back-off on 429
with the reset header, retries on 5xx, clear errors, paging, a deleted deal's flow skipped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.common import AuthError, ConnectorError, RateLimitExhausted
from connectors.pipedrive.client import NotFound, PipedriveClient
from connectors.pipedrive.source import PipedriveSource
from emulators import SandboxConfig, build_sandbox
from emulators.http import Fault
from emulators.pipedrive import PipedriveServer

TOKEN = "pd-client-token-5e1d9a"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sandbox(SandboxConfig(seed=7, n_contacts=300, n_deals=120), tmp_path_factory.mktemp("pd") / "c.sqlite")


@pytest.fixture
def server(db: Path) -> Iterator[PipedriveServer]:
    with PipedriveServer(db, token=TOKEN) as srv:
        yield srv


def make_client(url: str, waits: list[float] | None = None, messages: list[str] | None = None, **kw) -> PipedriveClient:
    return PipedriveClient(
        url,
        kw.pop("token", TOKEN),
        backoff_base_s=0.01,
        rate_limit_per_2s=kw.pop("rate_limit_per_2s", None),
        sleep=(waits.append if waits is not None else lambda _s: None),
        progress=(lambda m, _c: messages.append(m)) if messages is not None else (lambda _m, _c: None),
        **kw,
    )


def test_token_travels_in_the_header_never_in_the_url(server):
    seen: list[tuple[str, dict]] = []
    import requests

    class Spy(requests.Session):
        def get(self, url, **kw):  # type: ignore[override]
            seen.append((url, dict(kw.get("headers") or {}), dict(kw.get("params") or {})))
            return super().get(url, **kw)

    client = make_client(server.base_url, session=Spy())
    client.get("/api/v2/stages")
    url, headers, params = seen[0]
    assert headers["x-api-token"] == TOKEN
    assert TOKEN not in url and TOKEN not in str(params) and "api_token" not in str(params)
    assert TOKEN not in repr(client) and TOKEN not in str(vars(client))


def test_429_waits_the_reset_header_then_succeeds(server):
    server.inject_faults(Fault(path_contains="/stages", status=429, headers={"x-ratelimit-reset": "2"}, times=2))
    waits: list[float] = []
    body = make_client(server.base_url, waits).get("/api/v2/stages")
    assert body["success"] and waits == [2.0, 2.0]


def test_429_without_reset_backs_off_and_a_spent_budget_fails_at_once(server):
    server.inject_faults(Fault(path_contains="/stages", status=429, times=1))
    waits: list[float] = []
    make_client(server.base_url, waits).get("/api/v2/stages")
    assert waits == [pytest.approx(0.02)]
    server.inject_faults(Fault(path_contains="/stages", status=429, headers={"x-ratelimit-reset": "40000"}))
    with pytest.raises(RateLimitExhausted, match="budget"):
        make_client(server.base_url).get("/api/v2/stages")


def test_5xx_is_retried_and_gives_up_with_advice(server):
    server.inject_faults(Fault(path_contains="/pipelines", status=502, times=3))
    messages: list[str] = []
    assert make_client(server.base_url, messages=messages).get("/api/v2/pipelines")["success"]
    assert sum("retry" in m for m in messages) == 3
    server.inject_faults(Fault(path_contains="/pipelines", status=503, times=10))
    with pytest.raises(ConnectorError, match="PIPEDRIVE_BASE_URL") as exc:
        make_client(server.base_url, max_retries=2).get("/api/v2/pipelines")
    server.clear_faults()
    assert TOKEN not in str(exc.value)


@pytest.mark.parametrize(
    ("status", "body", "headers", "match"),
    [
        (401, None, {}, "PIPEDRIVE_API_TOKEN"),
        (403, None, {}, "permission"),
        (403, "<html>blocked</html>", {"Content-Type": "text/html"}, "repeated 429s"),
        (402, None, {}, "inactive or unpaid"),
    ],
)
def test_auth_errors_say_what_to_do(server, status, body, headers, match):
    fault = Fault(path_contains="/stages", status=status, headers=headers)
    if body is not None:
        fault.body = body  # type: ignore[assignment]
    server.inject_faults(fault)
    with pytest.raises(AuthError, match=match) as exc:
        make_client(server.base_url).get("/api/v2/stages")
    assert TOKEN not in str(exc.value)


def test_wrong_token_is_an_auth_error_without_the_token(server):
    with pytest.raises(AuthError, match="401") as exc:
        make_client(server.base_url, token="wrong-token-123456").get("/api/v2/deals")
    assert "wrong-token-123456" not in str(exc.value)


def test_retired_endpoint_410_says_what_to_do(server):
    with pytest.raises(ConnectorError, match=r"410 Gone.*v2"):
        make_client(server.base_url).get("/api/v1/deals")


def test_404_is_not_found(server):
    with pytest.raises(NotFound):
        make_client(server.base_url).get("/api/v1/deals/1/flow")


def test_paging_both_schemes(server):
    client = make_client(server.base_url)
    pages = list(client.iter_v2("/api/v2/persons", {"limit": 50}))
    ids = [p["id"] for page in pages for p in page["data"]]
    assert len(pages) > 2 and len(ids) == len(set(ids))
    v1 = list(client.iter_v1("/api/v1/leads", {"limit": 20}))
    assert len(v1) > 2 and sum(len(p["data"] or []) for p in v1) == len({i["id"] for p in v1 for i in p["data"] or []})


def test_limiter_follows_the_announced_burst_limit(db):
    with PipedriveServer(db, token=TOKEN, rate_limit_per_2s=40) as srv:
        client = make_client(srv.base_url, rate_limit_per_2s=5)
        client.get("/api/v2/stages")
        assert client._limiter is not None and client._limiter.max_calls == 36


def test_generic_host_uses_v1_prefix_company_domain_api_v1():
    assert make_client("https://api.pipedrive.com").v1 == "/v1"
    assert make_client("https://acme.pipedrive.com").v1 == "/api/v1"


def test_deleted_deal_flow_404_is_skipped(server):
    """A deal listed (e.g. just before its deletion) whose flow is gone: skipped, the rest load."""
    server.inject_faults(Fault(path_contains="/flow", status=404, times=1))
    messages: list[str] = []
    source = PipedriveSource(make_client(server.base_url), batch_size=1000, progress=lambda m, _c: messages.append(m))
    batches = list(source.sync("deals", None, now=datetime(2026, 11, 1, tzinfo=UTC)))
    flow = next(w for w in batches[0].writes if w.table == "deal_flow")
    deals = next(w for w in batches[0].writes if w.table == "deals")
    live = [r for r in deals.rows if not r["is_deleted"]]
    assert len(flow.replace_ids or []) == len(live) - 1
    assert any("404" in m and "skipped" in m for m in messages)
