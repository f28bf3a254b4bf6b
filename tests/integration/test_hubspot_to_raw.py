"""The real connector through the real loader into a real DuckDB file, over HTTP to the sandbox:
crash recovery, incremental syncs after changes, archive and hard-delete handling, totals."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.schema import STREAM_TABLES, TABLES
from connectors.hubspot.source import HubSpotSource
from emulators import mutate
from emulators.truth.ground_truth import GroundTruth
from tests.integration.hubspot_raw import NOW, TOKEN, raw_loader, raw_state
from warehouse.loader import RawLoader
from warehouse.sync import sync_stream


@pytest.fixture
def sandbox(hubspot_sandbox):
    db, server = hubspot_sandbox()
    return db, server.base_url


def sync_all(
    url: str, con: duckdb.DuckDBPyConnection, sync_id: str, *, now: datetime = NOW, sweep_hours: float = 168, hook=None
) -> dict:
    client = HubSpotClient(url, TOKEN, backoff_base_s=0.01, rate_limit_per_10s=None, search_rate_per_s=None)
    source = HubSpotSource(client, batch_size=40, full_sweep_every_hours=sweep_hours)
    loader = raw_loader(con)
    reports = {}
    for stream, tables in STREAM_TABLES.items():
        reports[stream] = sync_stream(
            source,
            loader,
            stream,
            primary_table=tables[0],
            sync_id=sync_id,
            now=now,
            batch_hook=hook if stream == "deals" else None,
        )
    return reports


def test_crash_between_batches_then_rerun_equals_a_clean_sync(sandbox, tmp_path):
    _, url = sandbox
    with duckdb.connect(str(tmp_path / "clean.duckdb")) as con:
        sync_all(url, con, "clean")
        clean = raw_state(con)

    def crash(i: int, batch) -> None:  # noqa: ARG001
        if i == 2:
            raise ConnectionError("power cut between batches")

    with duckdb.connect(str(tmp_path / "crashed.duckdb")) as con:
        with pytest.raises(ConnectionError):
            sync_all(url, con, "first", hook=crash)
        partial = con.execute("select count(*) from raw_hubspot.deals").fetchone()[0]
        assert 0 < partial < len(clean["deals"])
        cursor = RawLoader(con, "raw_hubspot", TABLES.values()).read_cursor("deals")
        assert cursor["phase"] == "backfill" and cursor["backfill_after"]
        reports = sync_all(url, con, "second")
        assert raw_state(con) == clean
        dupes = con.execute("select count(*) - count(distinct id) from raw_hubspot.deals").fetchone()[0]
        assert dupes == 0
        assert reports["deals"].totals_match and reports["contacts"].totals_match


def test_incremental_sync_after_changes_matches_the_changed_truth(sandbox, tmp_path):
    db, url = sandbox
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        sync_all(url, con, "first")
        changes = mutate(
            db,
            seed=3,
            n_updated_deals=6,
            n_new_deals=4,
            n_archived_deals=2,
            n_hard_deleted_deals=2,
            n_new_contacts=3,
            n_association_changes=2,
        )
        later = NOW + timedelta(hours=1)
        # No sweep due yet: updates, new and archived records arrive; hard deletes are unseen.
        reports = sync_all(url, con, "second", now=later)
        assert "incremental" in reports["deals"].modes and "backfill" not in reports["deals"].modes
        truth = GroundTruth(db)
        deals = truth.deals().set_index("id")
        raw = dict(con.execute("select id, dealstage from raw_hubspot.deals where not _is_deleted").fetchall())
        for deal_id in changes["updated_deals"] + changes["new_deals"]:
            assert raw[deal_id] == deals.loc[deal_id, "dealstage"]
        archived = dict(con.execute("select id, archived from raw_hubspot.deals").fetchall())
        assert all(archived[d] for d in changes["archived_deals"])
        history = con.execute(
            "select count(*) from raw_hubspot.deal_property_history where property = 'dealstage' and deal_id in "
            "(select unnest(?))",
            [changes["updated_deals"]],
        ).fetchone()[0]
        expected = truth.stage_history().query("deal_id in @changes['updated_deals']").shape[0]
        assert history == expected
        # The sweep (due after a week) flags the hard deletes and fixes changed associations.
        reports = sync_all(url, con, "third", now=later + timedelta(days=8))
        assert reports["deals"].flagged_deleted == len(changes["hard_deleted_deals"])
        flagged = {r[0] for r in con.execute("select id from raw_hubspot.deals where _is_deleted").fetchall()}
        assert flagged == set(changes["hard_deleted_deals"])
        archived_contacts = set(truth.contacts().query("archived")["id"])
        expected_pairs = {
            (d, c) for d, c in truth.deal_contacts().itertuples(index=False) if c not in archived_contacts
        }
        actual_pairs = set(
            con.execute(
                "select a.deal_id, a.contact_id from raw_hubspot.deal_contact_associations a "
                "join raw_hubspot.deals d on d.id = a.deal_id where not d._is_deleted"
            ).fetchall()
        )
        assert actual_pairs == expected_pairs
        assert reports["deals"].totals_match and reports["contacts"].totals_match


def test_resync_after_reset_changes_nothing_but_load_metadata(sandbox, tmp_path):
    _, url = sandbox
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        sync_all(url, con, "first")
        before = raw_state(con)
        RawLoader(con, "raw_hubspot", TABLES.values()).reset_cursors()
        reports = sync_all(url, con, "again")
        assert "backfill" in reports["deals"].modes
        assert raw_state(con) == before
        assert {r[0] for r in con.execute("select distinct _sync_id from raw_hubspot.deals").fetchall()} == {"again"}
