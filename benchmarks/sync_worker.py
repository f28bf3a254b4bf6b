"""One benchmark sync in a fresh process: ``python -m benchmarks.sync_worker SPEC_JSON``.

Runs the real HubSpot connector (``HubSpotClient`` + ``HubSpotSource``) through ``RawLoader`` and
``sync_stream`` into a DuckDB file, one phase after another (e.g. a backfill then an incremental
re-sync), and prints one JSON line with the measurements on stdout (progress goes to stderr).

Running in its own process makes ``ru_maxrss`` the sync's own peak (no sandbox server, no
sandbox build, no earlier repeat in it). Per stream it measures wall time split into
*HTTP* (inside ``requests.Session.request``: client request/response handling, loopback, the
sandbox's work), *load* (``RawLoader.write_batch``: Arrow + DuckDB) and the rest (JSON decoding,
parsing into rows, connector logic), plus requests, bytes received and API objects read.
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import resource
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import requests

from connectors.common import Batch
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.source import HubSpotSource
from core.sources import HUBSPOT
from warehouse.loader import RawLoader, WriteCounts
from warehouse.sync import sync_stream


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _log(message: str) -> None:
    print(f"      {message}", file=sys.stderr, flush=True)


class TimingSession(requests.Session):
    """Counts wall time, bytes and start times of every HTTP request."""

    def __init__(self, keep_times: bool) -> None:
        super().__init__()
        self.http_s = 0.0
        self.bytes_in = 0
        self.keep_times = keep_times
        self.times: list[tuple[float, bool, int, str]] = []  # (monotonic start, is_search, status, path)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        t0 = time.monotonic()
        resp = super().request(method, url, *args, **kwargs)
        self.http_s += time.monotonic() - t0
        self.bytes_in += len(resp.content)
        if self.keep_times:
            path = url.split("?", 1)[0].split("/crm/", 1)[-1]
            self.times.append((t0, method == "POST" and path.endswith("/search"), resp.status_code, path))
        return resp


_SQL_KINDS = (
    ("begin transaction", "begin"),
    ("commit", "commit"),
    ("rollback", "rollback"),
    ("create or replace temp table _batch_dedup", "dedup batch (window fn into temp table)"),
    ("delete from", "delete (upsert by key / replace children)"),
    ("insert or replace into", "cursor upsert"),
    ("insert into", "insert rows"),
    ("update", "sweep update"),
    ("drop table", "drop temp table"),
)


class TimedConnection:
    """Wraps a DuckDB connection: wall time per kind of statement (for the load breakdown)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.by_kind: dict[str, float] = {}

    def _add(self, kind: str, t0: float) -> None:
        self.by_kind[kind] = self.by_kind.get(kind, 0.0) + time.monotonic() - t0

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        t0 = time.monotonic()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            low = sql.lstrip().lower()
            kind = next(
                (k for prefix, k in _SQL_KINDS if low.startswith(prefix)), "other SQL (counts, cursor read, DDL)"
            )
            self._add(kind, t0)

    def register(self, name: str, obj: Any) -> Any:
        t0 = time.monotonic()
        try:
            return self._con.register(name, obj)
        finally:
            self._add("register/unregister Arrow", t0)

    def unregister(self, name: str) -> Any:
        t0 = time.monotonic()
        try:
            return self._con.unregister(name)
        finally:
            self._add("register/unregister Arrow", t0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


class TimedLoader(RawLoader):
    """A RawLoader that times ``write_batch`` (and its Arrow conversion) and adds up the API
    objects per batch."""

    load_s = 0.0
    arrow_s = 0.0
    objects = 0

    def _arrow(self, *args: Any, **kwargs: Any) -> Any:
        t0 = time.monotonic()
        try:
            return super()._arrow(*args, **kwargs)
        finally:
            self.arrow_s += time.monotonic() - t0

    def write_batch(self, batch: Batch, sync_id: str, loaded_at: datetime | None = None) -> WriteCounts:
        t0 = time.monotonic()
        try:
            return super().write_batch(batch, sync_id, loaded_at)
        finally:
            self.load_s += time.monotonic() - t0
            self.objects += int(batch.stats.get("records") or 0)


_CATEGORIES = (
    (
        "HTTP client (requests/urllib3/http.client/socket)",
        ("requests/", "urllib3/", "http/client", "socket.py", "ssl.py", "selectors.py", "email/", "idna"),
    ),
    ("JSON decode", ("json/",)),
    ("DuckDB / Arrow (loader)", ("warehouse/loader", "pyarrow", "duckdb")),
    ("parse to rows (connectors/hubspot/parse.py)", ("hubspot/parse",)),
    (
        "connector logic (source/client/ratelimit)",
        ("hubspot/source", "hubspot/client", "http/ratelimit", "hubspot/cursor", "http/redact"),
    ),
)


def _profile_summary(prof: cProfile.Profile, top: int = 15) -> dict[str, Any]:
    stats = pstats.Stats(prof)
    by_cat: dict[str, float] = {}
    total = 0.0
    for (filename, _line, _name), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        total += tt
        fname = filename.replace("\\", "/")
        cat = "other"
        if filename == "~":
            cat = "builtins (C calls: socket recv, dict/str ops, ...)"
            if "duckdb" in _name or "pyarrow" in _name:
                cat = "DuckDB / Arrow (loader)"
        else:
            for label, needles in _CATEGORIES:
                if any(n in fname for n in needles):
                    cat = label
                    break
        by_cat[cat] = by_cat.get(cat, 0.0) + tt
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    return {"total_s": total, "by_category": by_cat, "top_tottime": buf.getvalue()}


def run(spec: dict[str, Any]) -> dict[str, Any]:
    warehouse = Path(spec["warehouse"])
    if spec.get("fresh", True):
        for p in (warehouse, Path(str(warehouse) + ".wal")):
            p.unlink(missing_ok=True)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.fromisoformat(spec["now"]) if spec.get("now") else datetime.now(UTC)
    limits = spec.get("client") or {}
    keep_times = bool(spec.get("keep_request_times"))
    out: dict[str, Any] = {"rss_start_mib": _rss_mib(), "phases": []}
    origin = time.monotonic()
    con = duckdb.connect(str(warehouse))
    try:
        for phase in spec["phases"]:
            phase_out: dict[str, Any] = {"name": phase["name"], "streams": []}
            phase_start = time.monotonic()
            times: list[tuple[float, bool, int, str]] = []
            for stream in phase["streams"]:
                # One client per stream, as the Dagster assets do (resource.build_source per asset).
                session = TimingSession(keep_times)
                # Only the limits the spec names are passed: {} = the client's own defaults.
                kwargs = {k: limits[k] for k in ("rate_limit_per_10s", "search_rate_per_s") if k in limits}
                client = HubSpotClient(spec["base_url"], spec["token"], session=session, **kwargs)
                source = HubSpotSource(client)
                tcon = TimedConnection(con)
                loader = TimedLoader(tcon, HUBSPOT.schema, HUBSPOT.tables.values())  # type: ignore[arg-type]
                loader.ensure_tables()
                tcon.by_kind.clear()
                tables = HUBSPOT.stream_tables[stream]
                trace = spec.get("tracemalloc_stream") == stream and phase["name"] == spec.get(
                    "tracemalloc_phase", "backfill"
                )
                profile = spec.get("profile_stream") == stream and phase["name"] == spec.get(
                    "profile_phase", "backfill"
                )
                prof = cProfile.Profile() if profile else None
                if trace:
                    tracemalloc.start()
                if prof is not None:
                    prof.enable()
                _log(f"{phase['name']}: {stream} ...")
                t0 = time.monotonic()
                report = sync_stream(
                    source,
                    loader,
                    stream,
                    primary_table=tables[0],
                    sync_id=f"bench-{phase['name']}",
                    now=now,
                )
                seconds = time.monotonic() - t0
                if prof is not None:
                    prof.disable()
                s: dict[str, Any] = {
                    "stream": stream,
                    "objects": loader.objects,
                    "rows_by_table": {t: report.rows_by_table.get(t, 0) for t in tables},
                    "rows_written": report.records,
                    "batches": report.batches,
                    "modes": report.modes,
                    "requests": int(client.stats["requests"]),
                    "throttled_429": int(client.stats["throttled_429"]),
                    "retries": int(client.stats["retries"]),
                    "limiter_wait_s": float(client.stats["waited_s"]),
                    "seconds": seconds,
                    "http_s": session.http_s,
                    "load_s": loader.load_s,
                    "load_breakdown_s": {"to Arrow (pa.Table.from_pylist)": loader.arrow_s, **tcon.by_kind},
                    "bytes_in": session.bytes_in,
                    "api_total": report.api_total,
                    "warehouse_total": report.warehouse_total,
                    "totals_match": report.totals_match,
                }
                if trace:
                    s["tracemalloc_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
                    tracemalloc.stop()
                if prof is not None:
                    s["profile"] = _profile_summary(prof)
                s["rss_peak_after_mib"] = _rss_mib()
                times.extend(session.times)
                _log(
                    f"{phase['name']}: {stream}: {s['objects']:,} objects, {s['requests']:,} requests, "
                    f"{seconds:.1f} s (peak RSS so far {s['rss_peak_after_mib']:.0f} MiB)"
                )
                phase_out["streams"].append(s)
            phase_out["seconds"] = time.monotonic() - phase_start
            if keep_times and times:
                # seconds since the worker started (one clock across phases)
                phase_out["request_times"] = [[round(t - origin, 4), srch, st, path] for t, srch, st, path in times]
            out["phases"].append(phase_out)
        out["table_rows"] = {
            t: int(con.execute(f'select count(*) from {HUBSPOT.schema}."{t}"').fetchone()[0]) for t in HUBSPOT.tables
        }
    finally:
        con.close()
    out["warehouse_mib"] = warehouse.stat().st_size / 2**20
    out["rss_peak_mib"] = _rss_mib()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_s"] = ru.ru_utime + ru.ru_stime
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    spec = json.loads(args[0])
    result = run(spec)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
