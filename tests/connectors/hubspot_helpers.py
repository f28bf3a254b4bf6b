"""Shared helpers for the HubSpot connector tests: sandbox fixtures and an in-memory loader."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from connectors.common import Batch, Row
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.schema import TABLES
from connectors.hubspot.source import HubSpotSource
from emulators.hubspot.server import SandboxServer
from emulators.truth.generator import SANDBOX_END_DATE, SandboxConfig, build_sandbox
from warehouse.loader import RawLoader

TOKEN = "sandbox-token"
# `now` for syncs: the end of the sandbox's last day (mutations are stamped just before it).
NOW = datetime.combine(SANDBOX_END_DATE + timedelta(days=1), datetime.min.time(), tzinfo=UTC)

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "VARCHAR": (str,),
    "BOOLEAN": (bool,),
    "INTEGER": (int,),
    "BIGINT": (int,),
}


def check_row(table: str, row: Row) -> None:
    """Assert ``row`` has exactly the table's columns and each value matches its type."""
    schema = TABLES[table]
    assert set(row) == set(schema.columns), (table, set(row) ^ set(schema.columns))
    for column, sql_type in schema.columns.items():
        value = row[column]
        if value is None:
            continue
        assert isinstance(value, _PY_TYPES[sql_type]), (table, column, sql_type, value)
        if sql_type in ("INTEGER", "BIGINT"):
            assert not isinstance(value, bool), (table, column, value)


class LoadedWarehouse:
    """The real loader (`warehouse.loader.RawLoader`) on an in-memory DuckDB: every batch a sync
    yields is type-checked (`check_row`) and written as `make run` writes it; the tests read the
    raw tables back (load columns dropped) as {key tuple: row}."""

    def __init__(self) -> None:
        self.con = duckdb.connect(":memory:")
        self.loader = RawLoader(self.con, "raw_hubspot", TABLES.values())
        self.loader.ensure_tables()
        self.batches: list[Batch] = []
        self._tables: dict[str, dict[tuple, Row]] | None = None  # read back once per sync

    def sync(self, source: HubSpotSource, stream: str, now: datetime = NOW) -> list[Batch]:
        start = len(self.batches)
        for batch in source.sync(stream, self.loader.read_cursor(stream), now=now):
            for write in batch.writes:
                for row in write.rows:
                    check_row(write.table, row)
            self.loader.write_batch(batch, sync_id=f"test-{len(self.batches)}")
            self.batches.append(batch)
            self._tables = None
        return self.batches[start:]

    @property
    def tables(self) -> dict[str, dict[tuple, Row]]:
        if self._tables is not None:
            return self._tables
        out: dict[str, dict[tuple, Row]] = {}
        for name, schema in TABLES.items():
            columns = list(schema.columns)
            select = ", ".join(f'"{c}"' for c in columns)
            rows = self.con.execute(f'select {select} from raw_hubspot."{name}"').fetchall()
            out[name] = {
                tuple(r[columns.index(k)] for k in schema.key): dict(zip(columns, r, strict=True)) for r in rows
            }
        self._tables = out
        return out

    @property
    def deleted(self) -> dict[str, set[str]]:
        """Ids the loader flagged `_is_deleted` (hard-deleted in the API), per table with an `id`."""
        return {
            name: {r[0] for r in self.con.execute(f'select id from raw_hubspot."{name}" where _is_deleted').fetchall()}
            for name, schema in TABLES.items()
            if "id" in schema.columns
        }

    @property
    def cursors(self) -> dict[str, dict[str, Any]]:
        return {
            stream: cursor
            for stream in HubSpotSource.STREAMS
            if (cursor := self.loader.read_cursor(stream)) is not None
        }

    def ids(self, table: str, *, archived: bool | None = None) -> set[str]:
        return {r["id"] for r in self.tables[table].values() if archived is None or r["archived"] is archived}


class RecordingSession(requests.Session):
    """A requests.Session that remembers (time, method, url, params, json) of each call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[float, str, str, dict, Any]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.calls.append(
            (time.monotonic(), method, url, dict(kwargs.get("params") or {}), copy.deepcopy(kwargs.get("json")))
        )
        return super().request(method, url, *args, **kwargs)


def build_db(path: Path, **overrides: Any) -> Path:
    """A small sandbox (300 contacts, 100 deals) unless overridden."""
    config = SandboxConfig(**{"seed": 7, "n_contacts": 300, "n_deals": 100, **overrides})
    return build_sandbox(config, path)


@pytest.fixture(name="db")
def db_fixture(tmp_path: Path) -> Path:
    """A fresh small sandbox file per test (tests may mutate it)."""
    return build_db(tmp_path / "crm.sqlite")


@pytest.fixture(name="server")
def server_fixture(db: Path) -> Iterator[SandboxServer]:
    """The sandbox API on a free loopback port, no server-side rate limits."""
    with SandboxServer(db, token=TOKEN, rate_limit_per_10s=None, search_rate_per_s=None) as srv:
        yield srv


def make_client(base_url: str, messages: list[str] | None = None, **kwargs: Any) -> HubSpotClient:
    """A client tuned for tests: fast back-off, no limiter unless asked."""
    token = kwargs.pop("token", TOKEN)
    opts: dict[str, Any] = {
        "backoff_base_s": 0.01,
        "rate_limit_per_10s": None,
        "search_rate_per_s": None,
        "timeout_s": 5,
        **kwargs,
    }
    sink = messages if messages is not None else []
    return HubSpotClient(base_url, token, progress=lambda m, _c: sink.append(m), **opts)
