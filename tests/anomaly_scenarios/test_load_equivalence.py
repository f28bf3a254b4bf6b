"""The harness's no-HTTP load writes exactly the raw rows a real HTTP sync writes."""

from __future__ import annotations

from pathlib import Path

import duckdb

from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.source import HubSpotSource
from core.sources import HUBSPOT
from emulators import SandboxConfig, SandboxServer, build_sandbox
from evaluation.load import load_sandbox, load_source

TOKEN = "equivalence-token"
LOAD_METADATA = ("_loaded_at", "_sync_id")


def _raw_tables(path: Path) -> dict[str, list[tuple]]:
    out = {}
    with duckdb.connect(str(path), read_only=True) as con:
        for table in HUBSPOT.tables:
            cols = [
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                    "order by ordinal_position",
                    [HUBSPOT.schema, table],
                ).fetchall()
                if r[0] not in LOAD_METADATA
            ]
            col_sql = ", ".join(f'"{c}"' for c in cols)
            out[table] = con.execute(f'select {col_sql} from {HUBSPOT.schema}."{table}" order by all').fetchall()
    return out


def test_direct_load_equals_http_sync(tmp_path: Path) -> None:
    # a scenario sandbox on purpose: odd rows (history before creation, years ahead) included
    db = build_sandbox(
        SandboxConfig(seed=5, n_contacts=1200, n_deals=400, scenario="corrupted_timestamps"), tmp_path / "crm.sqlite"
    )
    direct = load_sandbox(db, tmp_path / "direct.duckdb")
    with SandboxServer(db, token=TOKEN) as server:
        client = HubSpotClient(
            server.base_url, TOKEN, rate_limit_per_10s=None, search_rate_per_s=None, backoff_base_s=0.01
        )
        with duckdb.connect(str(tmp_path / "http.duckdb")) as con:
            load_source(HubSpotSource(client), con, sync_id="http")
    a, b = _raw_tables(direct.warehouse), _raw_tables(tmp_path / "http.duckdb")
    assert set(a) == set(HUBSPOT.tables)
    for table in HUBSPOT.tables:
        assert a[table] == b[table], table
    assert len(a["deals"]) == 400 and len(a["contacts"]) == 1200 and a["deal_property_history"]
    assert not any(r[-1] for r in a["deals"])  # nothing flagged deleted after a full backfill
