"""Shared helpers for the HubSpot connector tests: sandbox fixtures and an in-memory loader."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.common import Batch, Row
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.schema import TABLES
from connectors.hubspot.source import HubSpotSource
from emulators.hubspot.server import SandboxServer
from emulators.truth.generator import SANDBOX_END_DATE, SandboxConfig, build_sandbox

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


class MemoryWarehouse:
    """Applies batches the way the loader does (upsert by key, replace per id or whole table,
    sweep flags deletes), keeping the latest cursor per stream."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple, Row]] = {name: {} for name in TABLES}
        self.deleted: dict[str, set[str]] = {name: set() for name in TABLES}
        self.cursors: dict[str, dict[str, Any]] = {}
        self.batches: list[Batch] = []

    def apply(self, batch: Batch) -> None:
        self.batches.append(batch)
        for write in batch.writes:
            schema = TABLES[write.table]
            table = self.tables[write.table]
            if write.replace_all:
                table.clear()
            if write.replace_column:
                doomed = set(write.replace_ids or [])
                for key in [k for k, r in table.items() if r[write.replace_column] in doomed]:
                    del table[key]
            for row in write.rows:
                check_row(write.table, row)
                table[tuple(row[k] for k in schema.key)] = row
        if batch.sweep is not None:
            live = set(batch.sweep.live_ids)
            table = self.tables[batch.sweep.table]
            self.deleted[batch.sweep.table] = {
                r[batch.sweep.key_column] for r in table.values() if r[batch.sweep.key_column] not in live
            }
        if batch.cursor is not None:
            self.cursors[batch.stream] = batch.cursor

    def sync(self, source: HubSpotSource, stream: str, now: datetime = NOW) -> list[Batch]:
        start = len(self.batches)
        for batch in source.sync(stream, self.cursors.get(stream), now=now):
            self.apply(batch)
        return self.batches[start:]

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
