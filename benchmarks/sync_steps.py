"""The measured steps of the sync benchmark: throughput, tracemalloc, rate-limited sync."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.sandbox_proc import SandboxProcess
from benchmarks.sync_common import (
    SERVER_PER_10S,
    SERVER_SEARCH_PER_S,
    STREAMS,
    run_worker,
    say,
    sync_now,
)

UNLIMITED: dict[str, Any] = {"rate_limit_per_10s": None, "search_rate_per_s": None}
"""Client settings with every rate limit off."""


def worker_spec(
    srv: SandboxProcess, db: Path, warehouse: Path, client: dict[str, Any], phases: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """What one sync worker process runs: against ``srv``, into a fresh ``warehouse`` file."""
    return {
        "base_url": srv.base_url,
        "token": srv.token,
        "warehouse": str(warehouse),
        "fresh": True,
        "now": sync_now(db),
        "client": client,
        "phases": phases,
        **extra,
    }


def throughput(db: Path, data_dir: Path, repeats: int, incr_repeats: int, profile: bool) -> dict[str, Any]:
    """Full backfills (each in a fresh process and DuckDB file) + incremental re-syncs."""
    runs: list[dict[str, Any]] = []
    with SandboxProcess(db) as srv:
        say(f"    sandbox server (own process) on {srv.base_url}, rate limits off")
        for i in range(repeats):
            say(f"    backfill run {i + 1}/{repeats} (fresh process, fresh DuckDB file)")
            phases = [{"name": "backfill", "streams": list(STREAMS)}]
            if i == 0:
                phases += [{"name": f"incremental-{k + 1}", "streams": list(STREAMS)} for k in range(incr_repeats)]
            spec = worker_spec(
                srv,
                db,
                data_dir / "bench_throughput.duckdb",
                UNLIMITED,
                phases,
                profile_stream="deals" if profile and i == 0 else None,
            )
            cpu0 = srv.stats()["cpu_s"]
            result = run_worker(spec)
            result["server_cpu_s"] = srv.stats()["cpu_s"] - cpu0
            runs.append(result)
        server = srv.stats()
    return {"runs": runs, "server": server}


def tracemalloc_run(db: Path, data_dir: Path) -> dict[str, Any]:
    with SandboxProcess(db) as srv:
        spec = worker_spec(
            srv,
            db,
            data_dir / "bench_tracemalloc.duckdb",
            UNLIMITED,
            [{"name": "backfill", "streams": ["deals"]}],
            tracemalloc_stream="deals",
        )
        return run_worker(spec)


def rate_limited(db: Path, data_dir: Path) -> dict[str, Any]:
    with SandboxProcess(db, rate_limit_per_10s=SERVER_PER_10S, search_rate_per_s=SERVER_SEARCH_PER_S) as srv:
        say(
            f"    sandbox server on {srv.base_url}: {SERVER_PER_10S} calls / 10 s, "
            f"{SERVER_SEARCH_PER_S} searches / s; client at its defaults (90 / 10 s, 4 searches / s)"
        )
        spec = worker_spec(
            srv,
            db,
            data_dir / "bench_ratelimit.duckdb",
            {},  # HubSpotClient defaults
            [
                {"name": "backfill", "streams": list(STREAMS)},
                {"name": "incremental-1", "streams": list(STREAMS)},
            ],
            keep_request_times=True,
        )
        result = run_worker(spec)
        result["server"] = srv.stats()
    return result
