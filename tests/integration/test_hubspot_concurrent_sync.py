"""Streams fetched together (``warehouse.sync.sync_streams``) over real HTTP to the sandbox write
exactly what the one-request-at-a-time sync writes: same raw rows, same cursors, and a crash or a
failing stream mid-way still loses and duplicates nothing."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from connectors.common import ConnectorError
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.schema import STREAM_TABLES, TABLES
from connectors.hubspot.source import HubSpotSource
from emulators import SANDBOX_END_DATE, SandboxConfig, SandboxServer, build_sandbox, mutate
from emulators.http import Fault
from warehouse.loader import RawLoader
from warehouse.sync import sync_stream, sync_streams

TOKEN = "concurrency-token"
NOW = datetime.combine(SANDBOX_END_DATE + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
STREAMS = {stream: tables[0] for stream, tables in STREAM_TABLES.items()}


@pytest.fixture(scope="module")
def pristine_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crm") / "crm.sqlite"
    return build_sandbox(SandboxConfig(seed=5, n_contacts=450, n_deals=160), path)


@pytest.fixture
def sandbox(pristine_sandbox: Path, tmp_path: Path):
    db = tmp_path / "crm.sqlite"
    shutil.copy(pristine_sandbox, db)
    # a small round trip so requests really overlap; HubSpot's ceiling enforced by the server
    with SandboxServer(db, token=TOKEN, latency_ms=5, rate_limit_per_10s=190) as server:
        yield db, server


def _source(url: str, concurrency: int) -> HubSpotSource:
    client = HubSpotClient(
        url, TOKEN, backoff_base_s=0.01, rate_limit_per_10s=None, search_rate_per_s=None, max_concurrency=concurrency
    )
    return HubSpotSource(client, batch_size=40)


def sequential(url: str, con: duckdb.DuckDBPyConnection, sync_id: str, now: datetime = NOW) -> None:
    """The sync before concurrency: one request at a time, one stream after another."""
    source = _source(url, 1)
    loader = _loader(con)
    for stream, primary in STREAMS.items():
        sync_stream(source, loader, stream, primary_table=primary, sync_id=sync_id, now=now, prefetch_batches=0)


def concurrent(url: str, con: duckdb.DuckDBPyConnection, sync_id: str, now: datetime = NOW, hook=None) -> dict:
    return sync_streams(_source(url, 6), _loader(con), STREAMS, sync_id=sync_id, now=now, batch_hook=hook)


def _loader(con: duckdb.DuckDBPyConnection) -> RawLoader:
    loader = RawLoader(con, "raw_hubspot", TABLES.values())
    loader.ensure_tables()
    return loader


def raw_state(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    out = {}
    for table, schema in TABLES.items():
        cols = ", ".join(f'"{c}"' for c in [*schema.columns, "_is_deleted"])
        out[table] = con.execute(f"select {cols} from raw_hubspot.{table} order by all").fetchall()
    return out


def cursors(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    loader = RawLoader(con, "raw_hubspot", TABLES.values())
    return {stream: loader.read_cursor(stream) for stream in STREAMS}


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


def test_a_crash_in_the_writer_then_a_rerun_equals_a_clean_sync(sandbox, tmp_path):
    _, server = sandbox
    url = server.base_url
    with duckdb.connect(str(tmp_path / "clean.duckdb")) as con:
        sequential(url, con, "clean")
        clean = raw_state(con)

    def crash(stream: str, i: int, batch) -> None:  # noqa: ARG001
        if stream == "deals" and i == 2:
            raise ConnectionError("power cut between batches")

    with duckdb.connect(str(tmp_path / "crashed.duckdb")) as con:
        with pytest.raises(ConnectionError):
            concurrent(url, con, "first", hook=crash)
        partial = con.execute("select count(*) from raw_hubspot.deals").fetchone()[0]
        assert 0 < partial < len(clean["deals"])
        assert cursors(con)["deals"]["phase"] == "backfill"
        concurrent(url, con, "second")
        assert raw_state(con) == clean
        assert con.execute("select count(*) - count(distinct id) from raw_hubspot.deals").fetchone()[0] == 0


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
