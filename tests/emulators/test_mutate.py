"""mutate(): deterministic change sets, visible through search and list as HubSpot would."""

from __future__ import annotations

import shutil
from pathlib import Path

import requests

from emulators import GroundTruth, SandboxServer, mutate
from emulators.truth.store import ms_to_iso

TOKEN = "mutate-token"


def _session() -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {TOKEN}"
    return s


def _search_ids(s: requests.Session, base: str, t: str, prop: str, since: int) -> set[str]:
    body = {
        "filterGroups": [{"filters": [{"propertyName": prop, "operator": "GTE", "value": str(since)}]}],
        "sorts": [{"propertyName": prop, "direction": "ASCENDING"}],
        "limit": 200,
    }
    r = s.post(f"{base}/crm/v3/objects/{t}/search", json=body)
    assert r.status_code == 200
    return {o["id"] for o in r.json()["results"]}


def _list_ids(s: requests.Session, base: str, archived: bool) -> set[str]:
    ids: set[str] = set()
    params = {"limit": 100, "archived": str(archived).lower()}
    url = f"{base}/crm/v3/objects/deals"
    while True:
        body = s.get(url, params=params).json()
        ids |= {o["id"] for o in body["results"]}
        if "paging" not in body:
            return ids
        params["after"] = body["paging"]["next"]["after"]


def _assoc(s: requests.Session, base: str, ids: list[str]) -> dict[str, list[int]]:
    r = s.post(f"{base}/crm/v4/associations/deals/contacts/batch/read", json={"inputs": [{"id": i} for i in ids]})
    return {x["from"]["id"]: sorted(t["toObjectId"] for t in x["to"]) for x in r.json()["results"]}


def test_mutate_is_deterministic(small_db: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    shutil.copy(small_db, a)
    shutil.copy(small_db, b)
    ra, rb = mutate(a, seed=1), mutate(b, seed=1)
    assert ra == rb
    assert mutate(a, seed=1) != ra  # a second round on the changed file differs
    assert GroundTruth(a).mutations == 2


def test_mutate_effects_through_the_api(small_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "m.sqlite"
    shutil.copy(small_db, db)
    before = GroundTruth(db)
    deals_before = before.deals().set_index("id")
    hist_before = before.stage_history().groupby("deal_id").size()
    amount_before = before.property_history("amount").groupby("deal_id").size()
    with SandboxServer(db, token=TOKEN) as srv:
        s, base = _session(), srv.base_url
        live_before = _list_ids(s, base, archived=False)
        end_ms = max(deals_before["hs_lastmodifieddate_ms"])
        assert _search_ids(s, base, "deals", "hs_lastmodifieddate", end_ms + 1) == set()
        assoc_ids_probe = list(deals_before.index[~deals_before["archived"]])
        assoc_before = _assoc(s, base, assoc_ids_probe)

        ch = mutate(
            db,
            seed=42,
            n_updated_deals=6,
            n_new_deals=3,
            n_archived_deals=2,
            n_hard_deleted_deals=1,
            n_new_contacts=4,
            n_association_changes=2,
        )
        assert len(ch["updated_deals"]) == 6 and len(ch["new_deals"]) == 3
        assert len(ch["hard_deleted_deals"]) == 1 and len(ch["new_contacts"]) == 4
        assert ch["first_change_ms"] > end_ms

        changed = _search_ids(s, base, "deals", "hs_lastmodifieddate", ch["first_change_ms"])
        assert changed == set(ch["updated_deals"]) | set(ch["new_deals"])
        new_contacts = _search_ids(s, base, "contacts", "lastmodifieddate", ch["first_change_ms"])
        assert new_contacts == set(ch["new_contacts"])

        live_after = _list_ids(s, base, archived=False)
        archived_after = _list_ids(s, base, archived=True)
        assert live_after == (live_before | set(ch["new_deals"])) - set(ch["archived_deals"]) - set(
            ch["hard_deleted_deals"]
        )
        assert set(ch["archived_deals"]) <= archived_after
        gone = ch["hard_deleted_deals"][0]
        assert gone not in archived_after and gone not in live_after
        r = s.post(f"{base}/crm/v3/objects/deals/batch/read", json={"inputs": [{"id": gone}]})
        assert r.status_code == 207 and r.json()["errors"][0]["context"]["ids"] == [gone]
        assert s.get(f"{base}/crm/v3/objects/deals/{gone}").status_code == 404

        # stage moves / amount edits appended one history entry, newest first
        r = s.post(
            f"{base}/crm/v3/objects/deals/batch/read",
            json={"propertiesWithHistory": ["dealstage", "amount"], "inputs": [{"id": i} for i in ch["updated_deals"]]},
        )
        for o in r.json()["results"]:
            ph = o["propertiesWithHistory"]
            grew = (
                len(ph["dealstage"]) == hist_before[o["id"]] + 1
                or len(ph["amount"]) == amount_before.get(o["id"], 0) + 1
            )
            assert grew, o["id"]
            newest = max(ph["dealstage"][0]["timestamp"], ph["amount"][0]["timestamp"] if ph["amount"] else "")
            assert newest == o["properties"]["hs_lastmodifieddate"] == o["updatedAt"]
            assert newest >= ms_to_iso(ch["first_change_ms"])

        # association edits do not move hs_lastmodifieddate
        assoc_after = _assoc(s, base, assoc_ids_probe)
        for d in ch["association_changed_deals"]:
            assert assoc_after.get(d) != assoc_before.get(d)
            o = s.get(f"{base}/crm/v3/objects/deals/{d}").json()
            assert o["updatedAt"] == ms_to_iso(int(deals_before.loc[d, "hs_lastmodifieddate_ms"]))
        new = s.get(f"{base}/crm/v3/objects/deals/{ch['new_deals'][0]}", params={"associations": "contacts"}).json()
        assert new["properties"]["dealstage"] == "appointmentscheduled"
        assert new["associations"]["contacts"]["results"]
