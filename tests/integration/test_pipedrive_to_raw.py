"""The real Pipedrive connector through the real loader into DuckDB, over HTTP to the emulator:
crash between batches, re-run without duplicates, incremental after changes, hard deletes, a
fifth of the requests failing."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from connectors.pipedrive.client import PipedriveClient
from connectors.pipedrive.schema import STREAM_TABLES, TABLES
from connectors.pipedrive.source import PipedriveSource
from emulators import SANDBOX_END_DATE, SandboxConfig, build_sandbox, mutate
from emulators.pipedrive import PipedriveServer
from emulators.truth import pipedrive as pd
from emulators.truth import store
from warehouse.loader import RawLoader
from warehouse.sync import sync_stream

TOKEN = "pd-integration-token-4b2a"
NOW = datetime.combine(SANDBOX_END_DATE + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sandbox(
        SandboxConfig(seed=11, n_contacts=400, n_deals=180), tmp_path_factory.mktemp("pd") / "c.sqlite"
    )


@pytest.fixture
def sandbox(pristine: Path, tmp_path: Path):
    db = tmp_path / "crm.sqlite"
    shutil.copy(pristine, db)
    with PipedriveServer(db, token=TOKEN) as server:
        yield db, server


def sync_all(url: str, con, sync_id: str, *, now: datetime = NOW, hook=None, sweep_hours: float = 168) -> dict:
    client = PipedriveClient(url, TOKEN, backoff_base_s=0.001, rate_limit_per_2s=None, max_retries=12)
    source = PipedriveSource(client, batch_size=40, full_sweep_every_hours=sweep_hours)
    loader = RawLoader(con, "raw_pipedrive", TABLES.values())
    loader.ensure_tables()
    return {
        stream: sync_stream(
            source,
            loader,
            stream,
            primary_table=tables[0],
            sync_id=sync_id,
            now=now,
            batch_hook=hook if stream == "deals" else None,
        )
        for stream, tables in STREAM_TABLES.items()
    }


def raw_state(con) -> dict[str, list]:
    out = {}
    for table, schema in TABLES.items():
        cols = ", ".join(f'"{c}"' for c in [*schema.columns, "_is_deleted"])
        out[table] = con.execute(f"select {cols} from raw_pipedrive.{table} order by all").fetchall()
    return out


def true_flow_count(db: Path, deal_ids: list[int] | None = None) -> int:
    conn = store.connect(db, readonly=True)
    try:
        ids = deal_ids or [
            r[0] for r in conn.execute("SELECT id FROM deals WHERE merged_into IS NULL AND archived = 0")
        ]
        # each deal's flow also logs its creation (field add_time)
        return sum(len(pd.deal_flow(conn, i)[0]) + 1 for i in ids)
    finally:
        conn.close()


def test_crash_between_batches_then_rerun_equals_a_clean_sync(sandbox, tmp_path):
    db, server = sandbox
    with duckdb.connect(str(tmp_path / "clean.duckdb")) as con:
        sync_all(server.base_url, con, "clean")
        clean = raw_state(con)
    assert len(clean["deal_flow"]) == true_flow_count(db)

    def crash(i: int, batch) -> None:  # noqa: ARG001
        if i == 2:
            raise ConnectionError("power cut between batches")

    with duckdb.connect(str(tmp_path / "crashed.duckdb")) as con:
        with pytest.raises(ConnectionError):
            sync_all(server.base_url, con, "first", hook=crash)
        partial = con.execute("select count(*) from raw_pipedrive.deals").fetchone()[0]
        assert 0 < partial < len(clean["deals"])
        cursor = RawLoader(con, "raw_pipedrive", TABLES.values()).read_cursor("deals")
        assert cursor["updated_since"] and cursor["last_full_sweep_at"] is None
        sync_all(server.base_url, con, "second")
        assert raw_state(con) == clean
        dupes = con.execute("select count(*) - count(distinct id) from raw_pipedrive.deals").fetchone()[0]
        assert dupes == 0
        # a re-run changes nothing either
        sync_all(server.base_url, con, "third", now=NOW + timedelta(minutes=5))
        assert raw_state(con) == clean


@pytest.mark.slow  # ~20 s of retried requests
def test_a_fifth_of_requests_failing_still_loads_everything(pristine, tmp_path):
    with PipedriveServer(pristine, token=TOKEN) as server, duckdb.connect(str(tmp_path / "clean.duckdb")) as con:
        sync_all(server.base_url, con, "clean")
        clean = raw_state(con)
    with PipedriveServer(pristine, token=TOKEN, fail_rate=0.2, fail_seed=5) as server:
        with duckdb.connect(str(tmp_path / "faulty.duckdb")) as con:
            sync_all(server.base_url, con, "faulty")
            assert raw_state(con) == clean
        stats = server.stats()
    failed = sum(n for code, n in stats["by_status"].items() if code != 200)
    assert failed > 0.15 * stats["requests"]


def test_incremental_after_changes_then_sweep_flags_hard_deletes(sandbox, tmp_path):
    db, server = sandbox
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        sync_all(server.base_url, con, "first")
        server.reset_counters()
        changes = mutate(db, seed=3, n_updated_deals=6, n_new_deals=4, n_archived_deals=2, n_hard_deleted_deals=2)
        later = NOW + timedelta(hours=1)
        reports = sync_all(server.base_url, con, "second", now=later)
        assert "incremental" in reports["deals"].modes and "backfill" not in reports["deals"].modes
        flows_read = server.stats()["by_path"].get("/v1/deals/{id}/flow", 0)
        assert flows_read < 30  # only the changed deals' flows (plus the inclusive boundary)
        conn = store.connect(db, readonly=True)
        try:
            for deal_id in changes["updated_deals"] + changes["new_deals"]:
                _, status, held, _ = pd.deal_flow(conn, int(deal_id))
                raw = con.execute("select status, stage_id from raw_pipedrive.deals where id = ?", [deal_id]).fetchone()
                assert raw == (status, held), deal_id
        finally:
            conn.close()
        changed = [int(d) for d in changes["updated_deals"] + changes["new_deals"]]
        got = con.execute(
            "select count(*) from raw_pipedrive.deal_flow where deal_id in (select unnest(?))",
            [[str(d) for d in changed]],
        ).fetchone()[0]
        assert got == true_flow_count(db, changed)
        archived = dict(con.execute("select id, is_archived from raw_pipedrive.deals").fetchall())
        assert all(archived[d] for d in changes["archived_deals"])
        assert con.execute("select count(*) from raw_pipedrive.deals where _is_deleted").fetchone()[0] == 0
        reports = sync_all(server.base_url, con, "third", now=later + timedelta(days=8))
        assert reports["deals"].flagged_deleted == len(changes["hard_deleted_deals"])
        flagged = {r[0] for r in con.execute("select id from raw_pipedrive.deals where _is_deleted").fetchall()}
        assert flagged == set(changes["hard_deleted_deals"])


def test_unknown_cursor_format_says_how_to_reset(sandbox, tmp_path):
    _, server = sandbox
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        loader = RawLoader(con, "raw_pipedrive", TABLES.values())
        loader.ensure_tables()
        con.execute("insert into raw_pipedrive._cursors values ('deals', '{\"version\": 9}', current_timestamp, 'x')")
        client = PipedriveClient(server.base_url, TOKEN, rate_limit_per_2s=None)
        with pytest.raises(Exception, match="reset-cursors"):
            sync_stream(PipedriveSource(client), loader, "deals", primary_table="deals", sync_id="y", now=NOW)
