"""HubSpotSource against the sandbox over HTTP: backfill, resume, incremental, archived, sweep,
the search cap, and row types. Results are compared with the sandbox's GroundTruth."""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.hubspot.schema import DEAL_HISTORY_PROPERTIES, STREAM_TABLES
from connectors.hubspot.source import HubSpotSource
from core.epoch import to_epoch_ms
from emulators.hubspot.server import SandboxServer
from emulators.truth.generator import SandboxConfig, build_sandbox
from emulators.truth.ground_truth import GroundTruth
from emulators.truth.mutate import mutate
from tests.connectors.hubspot_helpers import (  # noqa: F401  (db/server fixtures)
    NOW,
    TOKEN,
    LoadedWarehouse,
    RecordingSession,
    db_fixture,
    make_client,
    server_fixture,
)


def _source(server: SandboxServer, messages: list[str] | None = None, **kwargs: object) -> HubSpotSource:
    client = make_client(server.base_url, messages, session=kwargs.pop("session", None))
    return HubSpotSource(client, **kwargs)  # type: ignore[arg-type]


def _rows(batches: list, table: str, mode: str | None = None) -> list[dict]:
    return [
        row
        for b in batches
        if mode is None or b.stats["mode"] == mode
        for w in b.writes
        if w.table == table
        for row in w.rows
    ]


def _live_contact_ids(truth: GroundTruth) -> set[str]:
    c = truth.contacts()
    return set(c.loc[~c["archived"], "id"])


def _truth_associations(truth: GroundTruth) -> set[tuple[str, str]]:
    """(deal, contact) pairs the API serves: associations to live contacts only."""
    live = _live_contact_ids(truth)
    dc = truth.deal_contacts()
    return {(d, c) for d, c in zip(dc["deal_id"], dc["contact_id"], strict=True) if c in live}


def test_backfill_reads_everything_once(server: SandboxServer, db: Path) -> None:
    truth = GroundTruth(db)
    session = RecordingSession()
    messages: list[str] = []
    source = _source(server, messages, batch_size=120, session=session)
    wh = LoadedWarehouse()
    batches = {stream: wh.sync(source, stream) for stream in source.STREAMS}

    deals, contacts = truth.deals(), truth.contacts()
    for stream, df in (("deals", deals), ("contacts", contacts)):
        backfill_ids = [r["id"] for r in _rows(batches[stream], stream, "backfill")]
        assert len(backfill_ids) == len(set(backfill_ids))  # every live id exactly once
        assert set(backfill_ids) == set(df.loc[~df["archived"], "id"])
        archived_ids = [r["id"] for r in _rows(batches[stream], stream, "archived")]
        assert set(archived_ids) == set(df.loc[df["archived"], "id"])
        assert wh.ids(stream, archived=True) == set(archived_ids)
        assert all(r["archived_at"] for r in _rows(batches[stream], stream, "archived"))
        last = batches[stream][-1]
        assert last.sweep is not None and set(last.sweep.live_ids) == set(df["id"])
        assert last.cursor["phase"] == "incremental" and last.cursor["last_full_sweep_at"]
        assert not wh.deleted[stream]
    # several backfill batches of ~batch_size, each cursor pointing at the next page
    backfill = [b for b in batches["contacts"] if b.stats["mode"] == "backfill"]
    assert len(backfill) >= 2 and all(b.cursor["backfill_after"] for b in backfill[:-1])
    assert backfill[-1].stats["stream_records"] == len(_live_contact_ids(truth))

    # values mirror the API (strings)
    for d in deals.to_dict("records"):
        row = wh.tables["deals"][(d["id"],)]
        amount = None if d["amount"] is None or d["amount"] != d["amount"] else d["amount"]
        assert (row["dealstage"], row["pipeline"], row["amount"], row["createdate"]) == (
            d["dealstage"], d["pipeline"], amount, d["createdate"]
        )  # fmt: skip

    # history: every version of every deal, index 0 = newest
    for prop in DEAL_HISTORY_PROPERTIES:
        th = truth.property_history(prop)
        got = sorted(
            (r["deal_id"], -r["history_index"], r["value"], r["timestamp"])
            for r in wh.tables["deal_property_history"].values()
            if r["property"] == prop
        )
        counts = Counter(th["deal_id"])
        want = sorted(
            (d, -(counts[d] - 1 - s), v, t)
            for d, s, v, t in zip(th["deal_id"], th["seq"], th["value"], th["timestamp"], strict=True)
        )
        assert got == want, prop

    got_assoc = {(r["deal_id"], r["contact_id"]) for r in wh.tables["deal_contact_associations"].values()}
    assert got_assoc == _truth_associations(truth)
    assert {r["association_type"] for r in wh.tables["deal_contact_associations"].values()} == {"deal_to_contact"}

    assert wh.ids("owners") == set(truth.owners()["id"])
    stages = truth.stages()
    assert {(r["pipeline_id"], r["id"]) for r in wh.tables["pipeline_stages"].values()} == set(
        zip(stages["pipeline_id"], stages["stage_id"], strict=True)
    )
    assert any(r["archived"] for r in wh.tables["pipeline_stages"].values())

    # the history page cap is never exceeded; progress names the page and the running count
    for _, _, url, params, body in session.calls:
        if "propertiesWithHistory" in params:
            assert int(params["limit"]) <= 50, url
        if body and body.get("propertiesWithHistory"):
            assert len(body["inputs"]) <= 50
    assert "deals: backfill page 1 (50 records so far)" in messages
    assert any(m.startswith("contacts: archived page") for m in messages)

    counts = truth.counts()
    assert source.api_total("deals") == counts["deals_live"]
    assert source.api_total("contacts") == counts["contacts_live"]
    assert source.api_total("owners") == int((~truth.owners()["archived"]).sum())
    assert source.api_total("pipelines") == len(truth.pipelines())


def test_every_row_matches_its_schema(server: SandboxServer) -> None:
    source = _source(server)
    wh = LoadedWarehouse()  # checks columns and value types per row, then loads
    for stream in source.STREAMS:
        batches = wh.sync(source, stream)
        written = {w.table for b in batches for w in b.writes}
        assert written == set(STREAM_TABLES[stream])
    assert all(wh.tables[t] for t in wh.tables)


def test_backfill_resumes_after_a_crash(server: SandboxServer, db: Path) -> None:
    source = _source(server, batch_size=100)
    first = next(iter(source.sync("contacts", None, now=NOW)))  # crash after one batch
    assert first.cursor["phase"] == "backfill" and first.cursor["backfill_after"]
    seen = [r["id"] for r in _rows([first], "contacts")]
    rest = list(source.sync("contacts", first.cursor, now=NOW))
    resumed = [r["id"] for r in _rows(rest, "contacts", "backfill")]
    assert not set(seen) & set(resumed)
    assert set(seen) | set(resumed) == _live_contact_ids(GroundTruth(db))
    # a resumed backfill has not seen every id: a separate sweep runs at the end
    assert rest[-1].sweep is not None and rest[-1].cursor["last_full_sweep_at"]
    assert any(b.stats["mode"] == "sweep" and b.stats["pages"] == 0 for b in rest)


def test_incremental_returns_changes_within_overlap(server: SandboxServer, db: Path) -> None:
    source = _source(server, overlap_minutes=10)
    wh = LoadedWarehouse()
    wh.sync(source, "deals")
    wh.sync(source, "contacts")
    cursor_ms = wh.cursors["deals"]["modified_since_ms"]
    before = GroundTruth(db).deals()
    in_overlap = set(before.loc[~before["archived"] & (before["hs_lastmodifieddate_ms"] >= cursor_ms - 600_000), "id"])

    changes = mutate(db, seed=3, n_updated_deals=6, n_new_deals=4, n_archived_deals=2, n_hard_deleted_deals=1,
                     n_new_contacts=3, n_association_changes=2)  # fmt: skip
    truth = GroundTruth(db)
    batches = wh.sync(source, "deals")
    inc = _rows(batches, "deals", "incremental")
    ids = [r["id"] for r in inc]
    assert len(ids) == len(set(ids))
    changed = set(changes["updated_deals"]) | set(changes["new_deals"])
    assert set(ids) == (changed | in_overlap) - set(changes["archived_deals"]) - set(changes["hard_deleted_deals"])
    # cursor advanced to the newest live change
    deals = truth.deals().set_index("id")
    live_changed = changed - set(changes["archived_deals"])
    assert wh.cursors["deals"]["modified_since_ms"] == max(
        int(deals.loc[i, "hs_lastmodifieddate_ms"]) for i in live_changed
    )
    # new history entries are present, newest first
    hist = {(r["deal_id"], r["property"], r["history_index"]): r for r in wh.tables["deal_property_history"].values()}
    for deal_id in changes["updated_deals"]:
        modified = deals.loc[deal_id, "hs_lastmodifieddate"]
        newest = [hist[k] for k in hist if k[0] == deal_id and k[2] == 0]
        assert any(h["timestamp"] == modified for h in newest), deal_id
    for deal_id in changes["new_deals"]:
        assert wh.tables["deals"][(deal_id,)]["dealstage"] == "appointmentscheduled"
        assert hist[(deal_id, "dealstage", 0)]["value"] == "appointmentscheduled"
        assert {r["contact_id"] for r in wh.tables["deal_contact_associations"].values() if r["deal_id"] == deal_id}
    # archived by the mutation: fetched by the archived pass and marked
    for deal_id in changes["archived_deals"]:
        row = wh.tables["deals"][(deal_id,)]
        assert row["archived"] is True and row["archived_at"] == deals.loc[deal_id, "archived_at"]
    # no sweep this time (the backfill was one): the hard delete is not flagged yet
    assert batches[-1].sweep is None and not wh.deleted["deals"]

    contacts_inc = _rows(wh.sync(source, "contacts"), "contacts", "incremental")
    assert set(changes["new_contacts"]) <= {r["id"] for r in contacts_inc}

    # a second run with nothing new only re-reads the overlap window
    again = _rows(wh.sync(source, "deals"), "deals", "incremental")
    newest = wh.cursors["deals"]["modified_since_ms"]
    assert all(to_epoch_ms(r["hs_lastmodifieddate"]) >= newest - 600_000 for r in again)


def test_sweep_catches_hard_delete_and_association_change(server: SandboxServer, db: Path) -> None:
    wh = LoadedWarehouse()
    wh.sync(_source(server), "deals")
    changes = mutate(db, seed=11, n_updated_deals=0, n_new_deals=0, n_archived_deals=1, n_hard_deleted_deals=2,
                     n_new_contacts=0, n_association_changes=3)  # fmt: skip
    truth = GroundTruth(db)
    before = {(r["deal_id"], r["contact_id"]) for r in wh.tables["deal_contact_associations"].values()}
    assert before != _truth_associations(truth)  # association edits do not move the modified date

    batches = wh.sync(_source(server, full_sweep_every_hours=0), "deals")
    assert [b.stats["mode"] for b in batches][-1] == "sweep"
    assert wh.deleted["deals"] == set(changes["hard_deleted_deals"])
    after = {(r["deal_id"], r["contact_id"]) for r in wh.tables["deal_contact_associations"].values()}
    hard = set(changes["hard_deleted_deals"])
    assert {p for p in after if p[0] not in hard} == _truth_associations(truth)
    assert wh.cursors["deals"]["last_full_sweep_at"] == "2026-11-01T00:00:00.000Z"


def test_unknown_cursor_version_is_rejected(server: SandboxServer) -> None:
    from connectors.common import ConnectorError

    with pytest.raises(ConnectorError, match="Delete the stored cursor"):
        list(_source(server).sync("deals", {"version": 0}, now=NOW))


# ---------------------------------------------------------------- the 10,000 search cap


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "crm.sqlite"
    return build_sandbox(SandboxConfig(seed=5, n_contacts=10_600, n_deals=20), path)


def _search_everything(db: Path) -> tuple[list[str], SandboxServer, list[dict]]:
    with SandboxServer(db, token=TOKEN) as srv:
        session = RecordingSession()
        source = HubSpotSource(make_client(srv.base_url, session=session), full_sweep_every_hours=1e9)
        state = {"version": 1, "phase": "incremental", "modified_since_ms": 0, "last_full_sweep_at": NOW.isoformat()}
        batches = list(source.sync("contacts", state, now=NOW))
        bodies = [c[4] for c in session.calls if c[2].endswith("/search")]
    return [r["id"] for r in _rows(batches, "contacts", "incremental")], srv, bodies


def _assert_all_live_once(ids: list[str], srv: SandboxServer, db: Path) -> None:
    assert len(ids) == len(set(ids))
    assert set(ids) == _live_contact_ids(GroundTruth(db))
    assert 400 not in srv.stats()["by_status"]


def test_search_restarts_before_10k_cap(big_db: Path) -> None:
    ids, srv, bodies = _search_everything(big_db)
    _assert_all_live_once(ids, srv, big_db)
    assert len(ids) > 10_000
    assert all(int(b.get("after", 0)) < 10_000 for b in bodies)
    restarts = [b for b in bodies if "after" not in b]
    assert len(restarts) == 2  # initial query + one restart at the last timestamp seen


@pytest.fixture
def same_timestamp_db(big_db: Path, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "same.sqlite"
    shutil.copy(big_db, path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE contacts SET lastmodifieddate = 1790000000000")
    conn.commit()
    conn.close()
    yield path


def test_search_splits_one_timestamp_by_object_id(same_timestamp_db: Path) -> None:
    ids, srv, bodies = _search_everything(same_timestamp_db)
    _assert_all_live_once(ids, srv, same_timestamp_db)
    by_id = [b for b in bodies if b["sorts"][0]["propertyName"] == "hs_object_id"]
    assert len([b for b in by_id if "after" not in b]) == 2
