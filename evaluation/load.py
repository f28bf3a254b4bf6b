"""Load a sandbox CRM into a fresh DuckDB warehouse without HTTP.

The connector (:class:`connectors.hubspot.source.HubSpotSource`) runs unchanged, with the same
parsing (:mod:`connectors.hubspot.parse`), :func:`warehouse.sync.sync_stream` and
:class:`warehouse.loader.RawLoader` a real sync uses; only its HTTP client is replaced by
:class:`DirectClient`, which routes each call straight to the sandbox's endpoint functions
(:mod:`emulators.hubspot.api`, the code behind the HTTP server) and round-trips the body through
JSON exactly as the wire would. So the raw rows are the ones an HTTP sync writes (a test in
``tests/anomaly_scenarios`` proves it), minus the socket, the rate limiters and the server thread.

    from evaluation.load import load_sandbox
    report = load_sandbox(Path("crm.sqlite"), Path("warehouse.duckdb"))
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import duckdb

from connectors.common import ConnectorError, ProgressFn, no_progress
from connectors.hubspot.client import PagedReads
from connectors.hubspot.source import HubSpotSource
from core.sources import HUBSPOT, SOURCES
from emulators.hubspot import api
from emulators.truth import store
from warehouse.loader import RawLoader
from warehouse.sync import sync_stream

DIRECT_BASE_URL = "http://sandbox.direct"


class DirectClient(PagedReads):
    """The public surface of :class:`connectors.hubspot.client.HubSpotClient`, in-process.

    Requests go to :func:`emulators.hubspot.api.route` with one read-only SQLite connection;
    query parameters are encoded and parsed as the HTTP layer does, JSON bodies are serialised
    both ways. Any non-2xx answer raises :class:`ConnectorError` (the sandbox has no faults here).
    """

    def __init__(self, db_path: Path | str, *, progress: ProgressFn = no_progress) -> None:
        self.db_path = Path(db_path)
        self.base_url = DIRECT_BASE_URL
        self.progress = progress
        self.stats: dict[str, float] = {"requests": 0, "retries": 0, "throttled_429": 0, "waited_s": 0.0}
        self._conn = store.connect(self.db_path, readonly=True)
        st = os.stat(self.db_path)
        self._db_version = f"{self.db_path}:{st.st_mtime_ns}:{st.st_size}"

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> DirectClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._request("GET", path, params=params)

    def post(self, path: str, json: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._request("POST", path, json_body=json)

    def _request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json_body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        self.stats["requests"] += 1
        fn, path_params, _is_search, _other = api.route(method, path)
        if fn is None:
            raise ConnectorError(f"{method} {path}: no such sandbox endpoint")
        # what `requests` puts on the wire and what the server's parse_qs/json.loads reads back
        query = parse_qs(urlencode(params or {}, doseq=True), keep_blank_values=True)
        body = json.loads(json.dumps(json_body)) if json_body is not None else None
        call = api.Call(self._conn, method, path, query, body, self.base_url, path_params, db_version=self._db_version)
        try:
            status, out = fn(call)
        except api.ApiError as exc:
            raise ConnectorError(f"{method} {path}: HTTP {exc.status} {exc.message}") from exc
        if status >= 300 and status != 207:
            raise ConnectorError(f"{method} {path}: HTTP {status}")
        return json.loads(json.dumps(out))


@dataclass
class LoadReport:
    """What :func:`load_sandbox` wrote."""

    warehouse: Path
    seconds: float = 0.0
    records: dict[str, int] = field(default_factory=dict)
    requests: int = 0


def load_source(
    source: HubSpotSource, con: duckdb.DuckDBPyConnection, *, sync_id: str, now: datetime | None = None
) -> dict[str, int]:
    """One sync of every HubSpot stream into ``con`` (as the Dagster raw assets do). The other
    sources' raw tables are created empty, as for a source that is not configured."""
    for other in SOURCES:
        RawLoader(con, other.schema, other.tables.values()).ensure_tables()
    loader = RawLoader(con, HUBSPOT.schema, HUBSPOT.tables.values())
    now = now or datetime.now(UTC)
    records: dict[str, int] = {}
    for stream, tables in HUBSPOT.stream_tables.items():
        report = sync_stream(source, loader, stream, primary_table=tables[0], sync_id=sync_id, now=now)
        records[stream] = report.records
    return records


def load_sandbox(
    db_path: Path | str, warehouse: Path | str, *, replace: bool = True, batch_size: int = 2000
) -> LoadReport:
    """Sync the sandbox at ``db_path`` into the DuckDB file ``warehouse`` without HTTP.

    ``replace`` removes an existing warehouse file first (a fresh backfill every time).
    """
    warehouse = Path(warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    if replace:
        for p in (warehouse, Path(str(warehouse) + ".wal")):
            p.unlink(missing_ok=True)
    started = time.monotonic()
    with DirectClient(db_path) as client, duckdb.connect(str(warehouse)) as con:
        source = HubSpotSource(client, batch_size=batch_size)  # type: ignore[arg-type]
        records = load_source(source, con, sync_id="evaluation-direct")
        requests = int(client.stats["requests"])
    return LoadReport(warehouse, time.monotonic() - started, records, requests)


__all__ = ["DirectClient", "LoadReport", "load_sandbox", "load_source"]
