"""Server contract over real HTTP: paging, history cap, search, auth, limits, faults."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from emulators import Fault, GroundTruth, SandboxConfig, SandboxServer, build_sandbox

TOKEN = "test-token-3f9a"  # same as conftest.TOKEN (the session server's token)


def _walk(http: requests.Session, url: str, params: dict) -> list[dict]:
    out, seen_links = [], 0
    r = http.get(url, params=params)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        out.extend(body["results"])
        nxt = body.get("paging", {}).get("next")
        if not nxt:
            return out
        seen_links += 1
        r = http.get(nxt["link"])  # the link keeps every other query param


def _all_values_str_or_none(objs: list[dict]) -> bool:
    return all(v is None or isinstance(v, str) for o in objs for v in o["properties"].values())


@pytest.fixture(scope="module")
def truth(demo_db: Path) -> GroundTruth:
    return GroundTruth(demo_db)


def test_list_pages_cover_every_live_id_once(server: SandboxServer, http, truth) -> None:
    deals = truth.deals()
    got = _walk(
        http,
        f"{server.base_url}/crm/v3/objects/deals",
        {"limit": 100, "properties": "dealstage,amount,deal_currency_code"},
    )
    ids = [o["id"] for o in got]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(deals.loc[~deals["archived"], "id"])
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)
    assert all(not o["archived"] and "archivedAt" not in o for o in got)
    assert set(got[0]["properties"]) >= {
        "dealstage",
        "amount",
        "deal_currency_code",
        "hs_object_id",
        "createdate",
        "hs_lastmodifieddate",
    }
    assert _all_values_str_or_none(got)
    by_id = deals.set_index("id")
    for o in got[:50]:
        assert o["properties"]["amount"] == by_id.loc[o["id"], "amount"]


def test_archived_only_with_archived_true(server: SandboxServer, http, truth) -> None:
    deals = truth.deals()
    got = _walk(http, f"{server.base_url}/crm/v3/objects/deals", {"limit": 100, "archived": "true"})
    assert {o["id"] for o in got} == set(deals.loc[deals["archived"], "id"])
    assert all(o["archived"] and o["archivedAt"].endswith("Z") for o in got)
    contacts = _walk(http, f"{server.base_url}/crm/v3/objects/contacts", {"limit": 100, "archived": "true"})
    assert {o["id"] for o in contacts} == set(truth.contacts().query("archived")["id"])


def test_default_properties_and_single_read(server: SandboxServer, http, truth) -> None:
    r = http.get(f"{server.base_url}/crm/v3/objects/contacts", params={"limit": 3})
    body = r.json()
    assert len(body["results"]) == 3 and "paging" in body
    assert set(body["results"][0]["properties"]) == {
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    }
    assert r.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    did = truth.deals()["id"].iloc[0]
    one = http.get(f"{server.base_url}/crm/v3/objects/deals/{did}", params={"associations": "contacts"}).json()
    assert one["id"] == did and one["associations"]["contacts"]["results"][0]["type"] == "deal_to_contact"
    r = http.get(f"{server.base_url}/crm/v3/objects/deals/123")
    assert r.status_code == 404 and r.json()["category"] == "OBJECT_NOT_FOUND"
    r = http.get(f"{server.base_url}/crm/v3/nothing/here")
    assert r.status_code == 404


def test_history_newest_first_and_cap(server: SandboxServer, http, truth) -> None:
    url = f"{server.base_url}/crm/v3/objects/deals"
    r = http.get(url, params={"limit": 51, "propertiesWithHistory": "dealstage"})
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"
    r = http.get(url, params={"limit": 101})
    assert r.status_code == 400
    got = _walk(
        http,
        url,
        {
            "limit": 50,
            "propertiesWithHistory": "dealstage,amount",
            "properties": "dealstage,hs_v2_date_entered_closedwon",
        },
    )
    sh = truth.stage_history()
    expected = {k: list(g["stage_id"])[::-1] for k, g in sh.groupby("deal_id")}
    for o in got:
        hist = o["propertiesWithHistory"]["dealstage"]
        assert [h["value"] for h in hist] == expected[o["id"]]
        assert hist[-1]["timestamp"] == o["createdAt"]
        stamps = [h["timestamp"] for h in hist]
        assert stamps == sorted(stamps, reverse=True)
        assert all(h["timestamp"].endswith("Z") and len(h["timestamp"]) == 24 for h in hist)
        ui = [h for h in hist if h["sourceType"] == "CRM_UI"]
        assert all(isinstance(h["updatedByUserId"], int) for h in ui)
        # latest *entry* into closedwon: a repeated same-stage write is not a new entry
        won = [
            h["timestamp"]
            for k, h in enumerate(hist)
            if h["value"] == "closedwon" and (k + 1 == len(hist) or hist[k + 1]["value"] != "closedwon")
        ]
        assert o["properties"]["hs_v2_date_entered_closedwon"] == (won[0] if won else None)
    with_amount = [o for o in got if o["propertiesWithHistory"]["amount"]]
    assert 0 < len(with_amount) < len(got)


def test_batch_read(server: SandboxServer, http, truth) -> None:
    url = f"{server.base_url}/crm/v3/objects/deals/batch/read"
    ids = list(truth.deals().query("not archived")["id"][:3])
    r = http.post(
        url,
        json={"properties": ["dealstage"], "propertiesWithHistory": ["dealstage"], "inputs": [{"id": i} for i in ids]},
    )
    assert r.status_code == 200 and r.json()["status"] == "COMPLETE"
    assert {o["id"] for o in r.json()["results"]} == set(ids)
    r = http.post(url, json={"inputs": [{"id": ids[0]}, {"id": "42"}]})
    assert r.status_code == 207
    assert r.json()["numErrors"] == 1 and r.json()["errors"][0]["context"]["ids"] == ["42"]
    r = http.post(url, json={"propertiesWithHistory": ["dealstage"], "inputs": [{"id": str(i)} for i in range(51)]})
    assert r.status_code == 400
    r = http.post(url, json={"inputs": [{"id": str(i)} for i in range(101)]})
    assert r.status_code == 400


def _search(http, base, t, body):
    return http.post(f"{base}/crm/v3/objects/{t}/search", json=body)


def test_search_filters_sorts_and_limits(server: SandboxServer, http, truth) -> None:
    base = server.base_url
    deals = truth.deals()
    live = deals[~deals["archived"]]
    cut = int(live["hs_lastmodifieddate_ms"].median())
    body = {
        "filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(cut)}]}],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["dealstage", "hs_lastmodifieddate"],
        "limit": 200,
    }
    seen, after = [], None
    while True:
        if after:
            body["after"] = after
        page = _search(http, base, "deals", body).json()
        assert "propertiesWithHistory" not in page["results"][0]
        assert "associations" not in page["results"][0]
        seen.extend(page["results"])
        after = page.get("paging", {}).get("next", {}).get("after")
        if not after:
            break
    assert page["total"] == (live["hs_lastmodifieddate_ms"] >= cut).sum() == len(seen)
    stamps = [o["properties"]["hs_lastmodifieddate"] for o in seen]
    assert stamps == sorted(stamps)
    assert _all_values_str_or_none(seen)

    # hs_object_id compares and sorts numerically (ids cross 10^10 in this sandbox)
    ids = sorted(int(i) for i in live["id"])
    pivot = ids[len(ids) // 2]
    r = _search(
        http,
        base,
        "deals",
        {
            "filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "GTE", "value": str(pivot)}]}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "DESCENDING"}],
            "limit": 200,
        },
    )
    got = [int(o["id"]) for o in r.json()["results"]]
    assert got == sorted((i for i in ids if i >= pivot), reverse=True)[:200]

    # OR of groups, IN, BETWEEN, NEQ, HAS_PROPERTY
    r = _search(
        http,
        base,
        "deals",
        {
            "filterGroups": [
                {"filters": [{"propertyName": "dealstage", "operator": "IN", "values": ["closedwon", "contractsent"]}]},
                {"filters": [{"propertyName": "pipeline", "operator": "EQ", "value": "1346739"}]},
            ]
        },
    )
    mask = live["dealstage"].isin(["closedwon", "contractsent"]) | (live["pipeline"] == "1346739")
    assert r.json()["total"] == mask.sum()
    r = _search(
        http,
        base,
        "deals",
        {"filterGroups": [{"filters": [{"propertyName": "amount", "operator": "NOT_HAS_PROPERTY"}]}]},
    )
    assert r.json()["total"] == live["amount"].isna().sum()
    r = _search(
        http,
        base,
        "deals",
        {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "amount", "operator": "BETWEEN", "value": "1000", "highValue": "5000"},
                        {"propertyName": "deal_currency_code", "operator": "NEQ", "value": "USD"},
                    ]
                }
            ]
        },
    )
    amt = live["amount"].astype(float)
    assert r.json()["total"] == ((amt >= 1000) & (amt <= 5000) & (live["currency"] != "USD")).sum()
    contacts = truth.contacts()
    r = _search(
        http,
        base,
        "contacts",
        {
            "filterGroups": [
                {"filters": [{"propertyName": "hs_analytics_source", "operator": "EQ", "value": "PAID_SEARCH"}]}
            ]
        },
    )
    assert r.json()["total"] == ((contacts["channel"] == "PAID_SEARCH") & ~contacts["archived"]).sum()
    # archived never match
    r = _search(
        http,
        base,
        "deals",
        {
            "limit": 200,
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": "hs_object_id",
                            "operator": "IN",
                            "values": list(deals.loc[deals["archived"], "id"]),
                        }
                    ]
                }
            ],
        },
    )
    assert r.json()["total"] == 0

    for bad in (
        {"limit": 201},
        {"sorts": [{"propertyName": "createdate"}, {"propertyName": "hs_object_id"}]},
        {"after": "10000"},
        {"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "EQ", "value": "1"}]}]},
    ):
        r = _search(http, base, "deals", bad)
        assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR", bad
    r = _search(http, base, "deals", {"limit": 5})
    assert not any(h.startswith("X-HubSpot-RateLimit") for h in r.headers)


def test_search_hard_cap_at_10000(tmp_path: Path) -> None:
    db = build_sandbox(SandboxConfig(seed=2, n_contacts=10_400, n_deals=20), tmp_path / "b.db")
    with SandboxServer(db, token=TOKEN) as srv:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        r = _search(s, srv.base_url, "contacts", {"limit": 200, "after": "9900"})
        body = r.json()
        assert body["total"] > 10_000 and len(body["results"]) == 100
        assert body["paging"]["next"]["after"] == "10000"
        r = _search(s, srv.base_url, "contacts", {"limit": 200, "after": "10000"})
        assert r.status_code == 400


def test_v4_associations_match_truth(server: SandboxServer, http, truth) -> None:
    contacts = truth.contacts().set_index("id")
    dc = truth.deal_contacts()
    dc = dc[~contacts.loc[dc["contact_id"], "archived"].values]
    ids = list(truth.deals().query("not archived")["id"][:120])
    r = http.post(
        f"{server.base_url}/crm/v4/associations/deals/contacts/batch/read", json={"inputs": [{"id": i} for i in ids]}
    )
    assert r.status_code in (200, 207)
    got = {x["from"]["id"]: sorted(t["toObjectId"] for t in x["to"]) for x in r.json()["results"]}
    want = {d: sorted(int(c) for c in g["contact_id"]) for d, g in dc.groupby("deal_id") if d in ids}
    assert got == want
    t0 = r.json()["results"][0]["to"][0]
    assert isinstance(t0["toObjectId"], int)
    assert t0["associationTypes"] == [{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}]
    r = http.post(
        f"{server.base_url}/crm/v4/associations/deals/contacts/batch/read", json={"inputs": [{"id": "1"}] * 1001}
    )
    assert r.status_code == 400


def test_dated_paths_equal_v3(server: SandboxServer, http) -> None:
    b = server.base_url
    for v3, dated, params in (
        ("/crm/v3/objects/deals", "/crm/objects/2026-03/deals", {"limit": 5, "propertiesWithHistory": "dealstage"}),
        ("/crm/v3/pipelines/deals", "/crm/pipelines/2026-09/deals", {}),
        ("/crm/v3/pipelines/deals/default/stages", "/crm/pipelines/2026-09/deals/default/stages", {}),
    ):
        x, y = http.get(b + v3, params=params).json(), http.get(b + dated, params=params).json()
        if "paging" in x:
            assert y["paging"]["next"]["link"].startswith(b + dated)
            x.pop("paging")
            y.pop("paging")
        assert x == y
    r = http.post(b + "/crm/objects/2026-03/deals/search", json={"limit": 3})
    assert r.status_code == 200 and len(r.json()["results"]) == 3


def test_pipelines_owners_properties(server: SandboxServer, http) -> None:
    b = server.base_url
    pipes = http.get(b + "/crm/v3/pipelines/deals").json()["results"]
    assert "paging" not in pipes
    default = next(p for p in pipes if p["id"] == "default")
    assert [(s["id"], s["displayOrder"], s["metadata"]) for s in default["stages"]] == [
        ("appointmentscheduled", 0, {"isClosed": "false", "probability": "0.2"}),
        ("qualifiedtobuy", 1, {"isClosed": "false", "probability": "0.4"}),
        ("presentationscheduled", 2, {"isClosed": "false", "probability": "0.6"}),
        ("decisionmakerboughtin", 3, {"isClosed": "false", "probability": "0.8"}),
        ("contractsent", 4, {"isClosed": "false", "probability": "0.9"}),
        ("closedwon", 5, {"isClosed": "true", "probability": "1.0"}),
        ("closedlost", 6, {"isClosed": "true", "probability": "0.0"}),
    ]
    assert any(p["id"].isdigit() for p in pipes)
    assert http.get(b + "/crm/v3/pipelines/deals/nope/stages").status_code == 404
    owners = _walk(http, b + "/crm/v3/owners", {"limit": 3})
    assert len(owners) == 7 and all(o["id"].isdigit() for o in owners)
    assert len(http.get(b + "/crm/v3/owners", params={"archived": "true"}).json()["results"]) == 1
    props = http.get(b + "/crm/v3/properties/deals").json()["results"]
    names = {p["name"]: p for p in props}
    assert "hs_v2_date_entered_closedwon" in names and "hs_v2_date_exited_qualifiedtobuy" in names
    assert names["amount"]["type"] == "number" and names["closedate"]["type"] == "datetime"
    assert names["hs_is_closed_won"]["type"] == "bool"
    cprops = {p["name"] for p in http.get(b + "/crm/v3/properties/contacts").json()["results"]}
    assert {"hs_analytics_source", "lifecyclestage", "hs_v2_date_entered_customer"} <= cprops


def test_auth_required_and_token_never_echoed(server: SandboxServer) -> None:
    b = server.base_url
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        for method, path in (
            ("GET", "/crm/v3/objects/deals"),
            ("GET", "/crm/v3/owners"),
            ("POST", "/crm/v3/objects/deals/search"),
            ("GET", "/crm/v3/pipelines/deals"),
        ):
            r = requests.request(method, b + path, headers=headers, json={})
            assert r.status_code == 401
            body = r.json()
            assert body["category"] == "INVALID_AUTHENTICATION" and body["status"] == "error"
            assert body["correlationId"] and "Authentication credentials not found" in body["message"]
            assert TOKEN not in r.text and TOKEN not in str(r.headers)
    ok = requests.get(b + "/crm/v3/owners", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and TOKEN not in ok.text and TOKEN not in str(ok.headers)


def test_rate_limits(small_db: Path) -> None:
    with SandboxServer(small_db, token=TOKEN, rate_limit_per_10s=3, search_rate_per_s=2, daily_limit=8) as srv:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        url = srv.base_url + "/crm/v3/objects/contacts"
        rs = [s.get(url) for _ in range(4)]
        assert [r.status_code for r in rs] == [200, 200, 200, 429]
        assert [r.headers["X-HubSpot-RateLimit-Remaining"] for r in rs[:3]] == ["2", "1", "0"]
        assert rs[0].headers["X-HubSpot-RateLimit-Max"] == "3"
        body = rs[3].json()
        assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["errorType"] == "RATE_LIMIT"
        assert body["message"] == "You have reached your ten_secondly_rolling limit."
        assert "Retry-After" not in rs[3].headers and body["correlationId"]
        rs = [s.post(srv.base_url + "/crm/v3/objects/contacts/search", json={}) for _ in range(3)]
        assert [r.status_code for r in rs] == [200, 200, 429]
        assert rs[2].json()["policyName"] == "SECONDLY"
        assert rs[2].json()["message"] == "You have reached your secondly limit."
        assert not any(h.startswith("X-HubSpot-RateLimit") for h in rs[2].headers)
        time.sleep(1.05)
        # 5 accepted so far; daily limit 8
        s.post(srv.base_url + "/crm/v3/objects/contacts/search", json={})
        s.post(srv.base_url + "/crm/v3/objects/contacts/search", json={})
        time.sleep(1.05)
        s.post(srv.base_url + "/crm/v3/objects/contacts/search", json={})
        r = s.post(srv.base_url + "/crm/v3/objects/contacts/search", json={})
        assert r.status_code == 429 and r.json()["policyName"] == "DAILY"
        st = srv.stats()
        assert st["responses_429"] == 3 and st["rate_limited"]["TEN_SECONDLY_ROLLING"] == 1
        assert st["peak_10s_share"] == 1.0 and st["requests"] == 11


def test_faults(small_db: Path) -> None:
    with SandboxServer(small_db, token=TOKEN) as srv:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {TOKEN}"
        url = srv.base_url + "/crm/v3/objects/deals"
        srv.inject_faults(
            [
                Fault(path_contains="/objects/deals", status=429, headers={"Retry-After": "1"}),
                Fault(path_contains="/objects/deals", status=429),
                Fault(path_contains="/objects/deals", status=503, times=2),
                Fault(path_contains="/objects/deals", status=401),
                Fault(path_contains="/objects/deals", status=None, delay_s=0.3),
            ]
        )
        r = s.get(url)
        assert r.status_code == 429 and r.headers["Retry-After"] == "1"
        assert r.json()["policyName"] == "TEN_SECONDLY_ROLLING"
        r = s.get(url)
        assert r.status_code == 429 and "Retry-After" not in r.headers
        assert [s.get(url).status_code for _ in range(2)] == [503, 503]
        r = s.get(url)
        assert r.status_code == 401 and r.json()["category"] == "INVALID_AUTHENTICATION"
        with pytest.raises(requests.Timeout):
            s.get(url, timeout=0.1)
        assert s.get(url).status_code == 200
        assert s.get(srv.base_url + "/crm/v3/owners").status_code == 200
        assert srv.request_count == 8 and srv.path_counts["/crm/v3/objects/deals"] == 7
