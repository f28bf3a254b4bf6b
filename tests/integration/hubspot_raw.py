"""What the HubSpot integration tests share besides the sandbox: the token, the sync's `now`, a
raw loader on a DuckDB connection and the raw tables' content."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from connectors.hubspot.schema import STREAM_TABLES, TABLES
from emulators import SANDBOX_END_DATE
from warehouse.loader import RawLoader

TOKEN = "integration-token"
NOW = datetime.combine(SANDBOX_END_DATE + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
STREAMS = {stream: tables[0] for stream, tables in STREAM_TABLES.items()}


def raw_loader(con: duckdb.DuckDBPyConnection) -> RawLoader:
    loader = RawLoader(con, "raw_hubspot", TABLES.values())
    loader.ensure_tables()
    return loader


def raw_state(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    """Every raw table's rows (API columns and the deleted flag), sorted."""
    out = {}
    for table, schema in TABLES.items():
        cols = ", ".join(f'"{c}"' for c in [*schema.columns, "_is_deleted"])
        out[table] = con.execute(f"select {cols} from raw_hubspot.{table} order by all").fetchall()
    return out


def cursors(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    loader = RawLoader(con, "raw_hubspot", TABLES.values())
    return {stream: loader.read_cursor(stream) for stream in STREAMS}
