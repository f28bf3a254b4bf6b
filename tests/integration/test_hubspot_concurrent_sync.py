"""Streams fetched together (``warehouse.sync.sync_streams``) over real HTTP to the sandbox write
exactly what the one-request-at-a-time sync writes: same raw rows, same cursors, and a crash or a
failing stream mid-way still loses and duplicates nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from connectors.common import ConnectorError
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.source import HubSpotSource
from emulators import mutate
from emulators.http import Fault
from tests.integration.hubspot_raw import NOW, STREAMS, TOKEN, cursors, raw_loader, raw_state
from warehouse.sync import sync_stream, sync_streams


@pytest.fixture
def sandbox(hubspot_sandbox):
    # a small round trip so requests really overlap; HubSpot's ceiling enforced by the server
    return hubspot_sandbox(latency_ms=5, rate_limit_per_10s=190)


def _source(url: str, concurrency: int, split: int | None = None) -> HubSpotSource:
    client = HubSpotClient(
        url, TOKEN, backoff_base_s=0.01, rate_limit_per_10s=None, search_rate_per_s=None, max_concurrency=concurrency
    )
    # split: search pages of 50 (HubSpot allows 200), so that both ends read several pages here
    return HubSpotSource(client, batch_size=40, split_backfill_min_records=split, split_search_limit=50)


def sequential(url: str, con: duckdb.DuckDBPyConnection, sync_id: str, now: datetime = NOW) -> None:
    """The sync before concurrency: one request at a time, one stream after another."""
    source = _source(url, 1)
    loader = raw_loader(con)
    for stream, primary in STREAMS.items():
        sync_stream(source, loader, stream, primary_table=primary, sync_id=sync_id, now=now, prefetch_batches=0)


def concurrent(
    url: str, con: duckdb.DuckDBPyConnection, sync_id: str, now: datetime = NOW, hook=None, split: int | None = None
) -> dict:
    """Streams together; ``split=0``: every backfill read from both ends (list up, search down)."""
    return sync_streams(_source(url, 6, split), raw_loader(con), STREAMS, sync_id=sync_id, now=now, batch_hook=hook)


@pytest.mark.slow  # ~15 s: two backfills and two incremental syncs over HTTP
def test_concurrent_backfill_and_incremental_equal_the_sequential_sync(sandbox, tmp_path):
    db, server = sandbox
    url = server.base_url
    with duckdb.connect(str(tmp_path / "seq.duckdb")) as seq, duckdb.connect(str(tmp_path / "con.duckdb")) as conc:
        sequential(url, seq, "s1")
        server.reset_counters()
        reports = concurrent(url, conc, "c1")
        assert raw_state(conc) == raw_state(seq)
        assert cursors(conc) == cursors(seq)
        assert all(r.totals_match for r in (reports["deals"], reports["contacts"]))
        assert server.stats()["responses_429"] == 0

        mutate(db, seed=9, n_updated_deals=50, n_new_deals=8, n_archived_deals=3, n_new_contacts=6)
        later = NOW + timedelta(hours=1)
        sequential(url, seq, "s2", later)
        server.reset_counters()
        concurrent(url, conc, "c2", later)
        assert raw_state(conc) == raw_state(seq)
        assert cursors(conc) == cursors(seq)
        # 50 changed deals: > one batch of history reads, read together
        assert server.stats()["by_path"].get("/crm/v3/objects/deals/batch/read", 0) >= 2

        # a re-run with nothing changed costs the same requests either way (the request economy)
        quiet = later + timedelta(hours=1)
        server.reset_counters()
        sequential(url, seq, "s3", quiet)
        sequential_requests = server.stats()["requests"]
        server.reset_counters()
        concurrent(url, conc, "c3", quiet)
        assert server.stats()["requests"] == sequential_requests <= 16
        assert raw_state(conc) == raw_state(seq)


@pytest.mark.parametrize("split", [None, 0], ids=["list", "split"])
def test_a_crash_in_the_writer_then_a_rerun_equals_a_clean_sync(sandbox, tmp_path, split):
    _, server = sandbox
    url = server.base_url
    with duckdb.connect(str(tmp_path / "clean.duckdb")) as con:
        sequential(url, con, "clean")
        clean = raw_state(con)

    committed: list[dict] = []  # the deals cursors written before the cut

    def crash(stream: str, i: int, batch) -> None:
        # the cut lands just before the batch that completes the deals backfill (its cursor says
        # so). Which part of a split backfill gets there first, and whether the search part has
        # committed a page by then, depends on timing (the deals search yields to contacts').
        if stream == "deals" and i >= 1 and batch.cursor["phase"] == "incremental":
            raise ConnectionError("power cut between batches")
        if stream == "deals":
            committed.append(batch.cursor)

    with duckdb.connect(str(tmp_path / "crashed.duckdb")) as con:
        with pytest.raises(ConnectionError):
            concurrent(url, con, "first", hook=crash, split=split)
        partial = con.execute("select count(*) from raw_hubspot.deals").fetchone()[0]
        assert 0 < partial < len(clean["deals"])
        cursor = cursors(con)["deals"]
        assert cursor["phase"] == "backfill"
        searched = any(c["backfill_below"] is not None for c in committed)
        if split is None:
            assert not searched  # a plain backfill never searches
        assert (cursor["backfill_below"] is not None) == searched
        concurrent(url, con, "second", split=split)
        assert raw_state(con) == clean
        assert con.execute("select count(*) - count(distinct id) from raw_hubspot.deals").fetchone()[0] == 0


def test_a_split_backfill_equals_the_sequential_sync_and_resumes_from_either_end(sandbox, tmp_path):
    """List up + search down: the same rows and cursors as the one-request-at-a-time sync; a crash
    after any batch resumes both parts from the stored cursor and loses or duplicates nothing."""
    _, server = sandbox
    url = server.base_url
    with duckdb.connect(str(tmp_path / "seq.duckdb")) as seq:
        sequential(url, seq, "s1")
        clean, clean_cursors = raw_state(seq), cursors(seq)
    server.reset_counters()
    with duckdb.connect(str(tmp_path / "split.duckdb")) as con:
        concurrent(url, con, "c1", split=0)
        assert raw_state(con) == clean
        assert cursors(con) == clean_cursors
    paths = server.stats()["by_path"]
    assert paths.get("/crm/v3/objects/deals/search", 0) >= 2  # the search part read deals
    assert paths.get("/crm/v3/objects/contacts/search", 0) >= 2

    def crash_at(n: int):
        def hook(stream: str, i: int, batch) -> None:  # noqa: ARG001
            if stream == "contacts" and i == n:
                raise ConnectionError("power cut between batches")

        return hook

    # after 1, 2 or 3 committed batches: either end first (the order is the threads'), or both
    for n in (1, 2, 3):
        with duckdb.connect(str(tmp_path / f"crash{n}.duckdb")) as con:
            with pytest.raises(ConnectionError):
                concurrent(url, con, "first", hook=crash_at(n), split=0)
            assert cursors(con)["contacts"]["phase"] == "backfill"
            concurrent(url, con, "second", split=0)
            assert raw_state(con) == clean
            assert cursors(con) == clean_cursors


def test_a_failing_stream_keeps_its_committed_batches_and_the_others_finish(sandbox, tmp_path):
    _, server = sandbox
    url = server.base_url
    with duckdb.connect(str(tmp_path / "clean.duckdb")) as con:
        sequential(url, con, "clean")
        clean = raw_state(con)
    # contacts' second list page (only contacts list 100 per page with a cursor) fails for good
    server.inject_faults(Fault(path_contains="limit=100&after=", status=400))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        with pytest.raises(ConnectorError):
            concurrent(url, con, "first")
        state = raw_state(con)
        assert state["deals"] == clean["deals"]  # the other streams finished
        assert 0 < len(state["contacts"]) < len(clean["contacts"])
        log = dict(con.execute("select stream, status from raw_hubspot._sync_log where sync_id = 'first'").fetchall())
        assert log["contacts"] == "failed" and log["deals"] == "succeeded"
        concurrent(url, con, "second")
        assert raw_state(con) == clean
