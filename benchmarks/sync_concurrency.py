"""Sync throughput at a realistic round trip: requests/s against the configured ceiling.

    python -m benchmarks.sync_concurrency                      # 6,000 deals, 100 ms, 190 / 10 s
    python -m benchmarks.sync_concurrency --deals 20000 --latency-ms 100 --modes sequential,concurrent

The sandbox server runs in its own process with ``--latency-ms`` added to every answer,
HubSpot's ten-secondly limit enforced (``--per-10s``, the client configured to the same ceiling,
as ``HUBSPOT_RATE_LIMIT_PER_10S`` would) and its search limit of 5 calls/s (the client at its
default 4/s). A backfill of every stream into a fresh DuckDB file:

* ``sequential``: one request at a time, streams one after another (the sync before concurrency:
  ``max_concurrency=1``, no prefetch);
* ``list``: :func:`warehouse.sync.sync_streams`, streams together, each backfill one list chain
  (the concurrency of the last session: prefetch and parallel batch reads);
* ``concurrent``: the same with the split backfill (list up, search down,
  :mod:`connectors.hubspot.backfill`), as a sync runs by default.

Prints the ordinary calls/s and their share of the ten-secondly ceiling (search calls have their
own limit and are counted apart), the share of requests the server throttled (429) and the
total requests and wall time.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.bench_args import BENCH_DATA_DIR, absolute_path
from benchmarks.sandbox_proc import SandboxProcess
from benchmarks.sync_common import STREAMS, default_contacts, ensure_sandbox, say, sync_now

DEFAULT_DEALS = 6_000
DEFAULT_LATENCY_MS = 100.0
DEFAULT_PER_10S = 190  # HubSpot Pro's ten-secondly limit, as the measurement
SERVER_SEARCH_PER_S = 5  # HubSpot's search limit per account
MODES = ("sequential", "list", "concurrent")


def run_backfill(srv: SandboxProcess, db: Path, warehouse: Path, per_10s: int, mode: str) -> dict[str, Any]:
    """One backfill of every stream in ``mode``; returns requests, seconds, 429s."""
    from datetime import datetime

    from connectors.hubspot.client import HubSpotClient
    from connectors.hubspot.source import HubSpotSource
    from core.sources import HUBSPOT
    from warehouse.loader import RawLoader
    from warehouse.sync import sync_stream, sync_streams

    for p in (warehouse, Path(str(warehouse) + ".wal")):
        p.unlink(missing_ok=True)
    now = datetime.fromisoformat(sync_now(db))
    if mode not in MODES:
        raise SystemExit(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
    concurrency = 1 if mode == "sequential" else None
    client = HubSpotClient(srv.base_url, srv.token, rate_limit_per_10s=per_10s, max_concurrency=concurrency)
    source = HubSpotSource(client, split_backfill_min_records=None if mode == "list" else 5_000)
    before = srv.stats()
    con = duckdb.connect(str(warehouse))
    try:
        loader = RawLoader(con, HUBSPOT.schema, HUBSPOT.tables.values())  # type: ignore[arg-type]
        loader.ensure_tables()
        streams = {s: HUBSPOT.stream_tables[s][0] for s in STREAMS}
        t0 = time.monotonic()
        if mode == "sequential":
            for stream, primary in streams.items():
                sync_stream(source, loader, stream, primary_table=primary, sync_id="bench", now=now, prefetch_batches=0)
        else:
            sync_streams(source, loader, streams, sync_id="bench", now=now)
        seconds = time.monotonic() - t0
        after = srv.stats()
        search = int(client.stats["search_requests"])
        ordinary = int(client.stats["requests"]) - search
        # the request economy: a re-run with nothing changed (incremental searches only)
        if mode == "sequential":
            for stream, primary in streams.items():
                sync_stream(source, loader, stream, primary_table=primary, sync_id="rerun", now=now, prefetch_batches=0)
        else:
            sync_streams(source, loader, streams, sync_id="rerun", now=now)
        rerun_requests = srv.stats()["requests"] - after["requests"]
    finally:
        con.close()
    requests = after["requests"] - before["requests"]
    throttled = after["responses_429"] - before["responses_429"]
    return {
        "mode": mode,
        "max_concurrency": client.max_concurrency,
        "requests": requests,
        "ordinary_requests": ordinary,
        "search_requests": search,
        "seconds": seconds,
        "req_per_s": ordinary / seconds if seconds else 0.0,
        "search_per_s": search / seconds if seconds else 0.0,
        "ceiling_per_s": per_10s / 10.0,
        "throttled": throttled,
        "throttled_pct": 100.0 * throttled / requests if requests else 0.0,
        "rerun_requests": rerun_requests,
    }


def measure(
    deals: int, latency_ms: float, per_10s: int, modes: list[str], data_dir: Path, contacts: int | None = None
) -> list[dict[str, Any]]:
    db, _ = ensure_sandbox(data_dir, deals, contacts or default_contacts(deals))
    import pandas  # noqa: F401  (the loader's first batch imports it: seconds, not the first mode's)
    import pyarrow  # noqa: F401

    out = []
    with SandboxProcess(
        db, rate_limit_per_10s=per_10s, search_rate_per_s=SERVER_SEARCH_PER_S, latency_ms=latency_ms
    ) as srv:
        for mode in modes:
            say(f"    {mode} backfill ({deals:,} deals, {latency_ms:g} ms per request, {per_10s} / 10 s) ...")
            r = run_backfill(srv, db, data_dir / f"bench_sync_{mode}.duckdb", per_10s, mode)
            r["share_of_ceiling_pct"] = 100.0 * r["req_per_s"] / r["ceiling_per_s"]
            say(
                f"      {r['requests']:,} requests in {r['seconds']:.1f} s: {r['ordinary_requests']:,} ordinary = "
                f"{r['req_per_s']:.1f} req/s ({r['share_of_ceiling_pct']:.0f}% of {r['ceiling_per_s']:g}/s) "
                f"+ {r['search_requests']:,} search ({r['search_per_s']:.1f}/s); "
                f"{r['throttled']} throttled ({r['throttled_pct']:.2f}%), in flight <= {r['max_concurrency']}; "
                f"a re-run with no change: {r['rerun_requests']} requests"
            )
            out.append(r)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.sync_concurrency", description=__doc__.split("\n\n")[0])
    p.add_argument("--deals", type=int, default=DEFAULT_DEALS)
    p.add_argument("--contacts", type=int, help="default: the generator's ratio (10 per 3 deals)")
    p.add_argument("--latency-ms", type=float, default=DEFAULT_LATENCY_MS)
    p.add_argument("--per-10s", type=int, default=DEFAULT_PER_10S)
    p.add_argument("--modes", default="sequential,concurrent", help=f"comma-separated: {', '.join(MODES)}")
    p.add_argument("--data-dir", type=absolute_path, default=BENCH_DATA_DIR)
    p.add_argument("--json", action="store_true", help="print the figures as one JSON line at the end")
    args = p.parse_args(argv)
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    results = measure(args.deals, args.latency_ms, args.per_10s, args.modes.split(","), data_dir, args.contacts)
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
