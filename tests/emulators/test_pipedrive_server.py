"""The Pipedrive emulator follows Pipedrive's contract over the shared ground truth: shapes,
paging, retired endpoints, errors, rate-limit headers and faults."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from emulators.http import Fault
from emulators.pipedrive import PipedriveServer
from emulators.truth import store
from emulators.truth.ground_truth import GroundTruth

TOKEN = "pd-test-token-77c1"


@pytest.fixture(scope="module")
def pd_server(small_db: Path) -> Iterator[PipedriveServer]:
    with PipedriveServer(small_db, token=TOKEN) as srv:
        yield srv


def get(server: PipedriveServer, path: str, **params) -> requests.Response:
    return requests.get(server.base_url + path, params=params, headers={"x-api-token": TOKEN}, timeout=10)


def all_v2(server: PipedriveServer, path: str, **params) -> list[dict]:
    out, cursor = [], None
    while True:
        body = get(server, path, limit=37, **({"cursor": cursor} if cursor else {}), **params).json()
        out.extend(body["data"])
        cursor = body["additional_data"]["next_cursor"]
        if not cursor:
            return out


def test_same_deals_as_the_truth_in_v2_shapes(pd_server, small_db):
    truth = GroundTruth(small_db).deals()
    deals = all_v2(pd_server, "/api/v2/deals", status="open,won,lost,deleted", include_fields="source_lead_id")
    live = truth[~truth["archived"] | truth["merged_into"].notna()]
    assert sorted(str(d["id"]) for d in deals) == sorted(live["id"])
    assert len({d["id"] for d in deals}) == len(deals)  # cursor paging neither repeats nor skips
    for d in deals:
        assert isinstance(d["id"], int) and isinstance(d["stage_id"], int) and isinstance(d["pipeline_id"], int)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", d["add_time"])
        assert d["status"] in {"open", "won", "lost", "deleted"}
        assert "source_lead_id" in d
    by_id = truth.set_index("id")
    no_amount = [d for d in deals if by_id.loc[str(d["id"]), "amount"] is None]
    assert no_amount and all(d["value"] == 0 for d in no_amount)  # 0 for an empty value
    closed = [d for d in deals if by_id.loc[str(d["id"]), "is_closed"] and d["status"] != "deleted"]
    assert closed and all(d["status"] in ("won", "lost") for d in closed)
    default = [d for d in deals if d["status"] in ("open", "won", "lost")]
    assert sorted(d["id"] for d in all_v2(pd_server, "/api/v2/deals")) == sorted(d["id"] for d in default)
    archived = all_v2(pd_server, "/api/v2/deals/archived")
    assert archived and all(d["is_archived"] for d in archived)
    assert {str(d["id"]) for d in archived}.isdisjoint(str(d["id"]) for d in deals)


def test_source_lead_id_only_when_asked_for(pd_server):
    assert all("source_lead_id" not in d for d in get(pd_server, "/api/v2/deals", limit=50).json()["data"])


def test_flow_values_are_strings_with_zoneless_log_time_newest_first(pd_server):
    deal = next(d for d in all_v2(pd_server, "/api/v2/deals") if d["status"] != "open")
    body = get(pd_server, f"/api/v1/deals/{deal['id']}/flow", items="dealChange").json()
    items = body["data"]
    assert items and all(i["object"] == "dealChange" for i in items)
    for i in items:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", i["data"]["log_time"])
        for key in ("old_value", "new_value"):
            assert i["data"][key] is None or isinstance(i["data"][key], str)
    keys = [(i["data"]["log_time"], i["data"]["id"]) for i in items]
    assert keys == sorted(keys, reverse=True)
    statuses = [i["data"]["new_value"] for i in items if i["data"]["field_key"] == "status"]
    assert statuses[0] == deal["status"]  # newest status change = the deal's status
    everything = get(pd_server, f"/v1/deals/{deal['id']}/flow").json()["data"]
    assert {"note", "activity"} <= {i["object"] for i in everything}  # both host layouts serve v1


def test_v1_paging_by_start_and_limit(pd_server):
    items, start = [], 0
    while True:
        body = get(pd_server, "/v1/leads", start=start, limit=50).json()
        items.extend(body["data"] or [])
        page = body["additional_data"]["pagination"]
        if not page["more_items_in_collection"]:
            break
        start = page["next_start"]
    assert len(items) == len({i["id"] for i in items}) == len(get(pd_server, "/v1/leads", limit=500).json()["data"])
    assert all(not i["is_archived"] for i in items)
    assert all(i["is_archived"] for i in get(pd_server, "/v1/leads/archived", limit=500).json()["data"])


def test_converted_leads_are_not_listed_but_survive_as_source_lead_id(pd_server, small_db):
    listed = {i["id"] for i in get(pd_server, "/v1/leads", limit=500).json()["data"]}
    archived = {i["id"] for i in get(pd_server, "/v1/leads/archived", limit=500).json()["data"]}
    conn = store.connect(small_db, readonly=True)
    gone = {
        r[0] for r in conn.execute("SELECT id FROM pd_leads WHERE converted_deal_id IS NOT NULL AND still_listed = 0")
    }
    conn.close()
    deals = all_v2(pd_server, "/api/v2/deals", include_fields="source_lead_id")
    carried = {d["source_lead_id"] for d in deals if d["source_lead_id"]}
    assert gone and gone.isdisjoint(listed | archived)
    assert gone & carried


@pytest.mark.parametrize("path", ["/v1/deals", "/api/v1/persons", "/v1/pipelines", "/v1/stages", "/v1/deals/5"])
def test_retired_v1_lists_answer_410(pd_server, path):
    resp = get(pd_server, path)
    assert resp.status_code == 410 and resp.json()["success"] is False


def test_errors(pd_server):
    assert requests.get(pd_server.base_url + "/api/v2/deals", timeout=5).status_code == 401
    bad = requests.get(pd_server.base_url + "/api/v2/deals", headers={"x-api-token": "nope"}, timeout=5)
    assert bad.status_code == 401 and bad.json()["success"] is False
    assert get(pd_server, "/api/v2/deals", updated_since="2026-01-01T00:00:00.000Z").status_code == 400
    assert get(pd_server, "/api/v2/deals", updated_since="2026-01-01 00:00:00").status_code == 400
    assert get(pd_server, "/api/v2/pipelines", updated_since="2026-01-01T00:00:00Z").status_code == 400
    assert get(pd_server, "/api/v2/deals", limit=501).status_code == 400
    assert get(pd_server, "/v1/deals/123/flow").status_code == 404


def test_updated_since_is_inclusive(pd_server):
    deals = all_v2(pd_server, "/api/v2/deals", sort_by="update_time")
    times = [d["update_time"] for d in deals]
    assert times == sorted(times)
    pivot = times[len(times) // 2]
    later = all_v2(pd_server, "/api/v2/deals", sort_by="update_time", updated_since=pivot)
    assert [d["id"] for d in later] == [d["id"] for d in deals if d["update_time"] >= pivot]


def test_deleted_deal_flow_is_404(demo_db):
    with PipedriveServer(demo_db, token=TOKEN) as srv:
        deleted = all_v2(srv, "/api/v2/deals", status="deleted")
        assert deleted and all(d["is_deleted"] and d["status"] == "deleted" for d in deleted)
        assert get(srv, f"/v1/deals/{deleted[0]['id']}/flow").status_code == 404


def test_burst_limit_and_headers(small_db):
    with PipedriveServer(small_db, token=TOKEN, rate_limit_per_2s=3) as srv:
        statuses = [get(srv, "/api/v2/stages") for _ in range(5)]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429, 429]
        assert statuses[0].headers["x-ratelimit-limit"] == "3"
        assert statuses[0].headers["x-ratelimit-remaining"] == "2"
        assert int(statuses[3].headers["x-ratelimit-reset"]) >= 1
        assert statuses[3].json()["error"] == "Request over limit"
        time.sleep(2.1)
        assert get(srv, "/api/v2/stages").status_code == 200


def test_cloudflare_page_after_repeated_429s(small_db):
    with PipedriveServer(small_db, token=TOKEN, rate_limit_per_2s=1, cloudflare_after=2) as srv:
        codes = [get(srv, "/api/v2/stages").status_code for _ in range(4)]
        assert codes[:3] == [200, 429, 429] and codes[3] == 403
        assert "html" in get(srv, "/api/v2/stages").headers["Content-Type"]


def test_injected_faults_and_fail_rate(small_db):
    with PipedriveServer(small_db, token=TOKEN, fail_rate=0.5, fail_seed=3) as srv:
        codes = [get(srv, "/api/v2/stages").status_code for _ in range(60)]
        assert 15 < sum(c != 200 for c in codes) < 45
        assert set(codes) - {200} <= {429, 500, 502, 503}
    with PipedriveServer(small_db, token=TOKEN) as srv:
        srv.inject_faults(Fault(path_contains="/flow", status=503, times=2))
        assert get(srv, "/v1/deals/1/flow").status_code == 503
        assert get(srv, "/api/v2/stages").status_code == 200
        assert get(srv, "/v1/deals/1/flow").status_code == 503
        assert get(srv, "/v1/deals/1/flow").status_code == 404
        assert srv.stats()["by_path"]["/v1/deals/{id}/flow"] == 3
