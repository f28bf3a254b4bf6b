"""Sync throughput, memory and rate-limit benchmark of the HubSpot connector (``make bench``).

    python -m benchmarks.sync_bench                 # 100,000 deals (+ contacts at the generator's ratio)
    python -m benchmarks.sync_bench --quick         # 10,000 deals: a fast smoke run
    python -m benchmarks.sync_bench --deals 50000 --repeat 3 --skip-rate-limit

Prints figures; asserts nothing about speed. Steps:

1. sandbox CRMs (SQLite, cached under ``data/bench/`` and keyed by their config);
2. throughput with every rate limit off: a full backfill of owners, pipelines, contacts and deals
   through the real ``HubSpotClient`` + ``HubSpotSource`` + ``RawLoader`` + ``sync_stream`` into a
   fresh DuckDB file, then incremental re-syncs with nothing changed. The sandbox server runs in
   one child process and each sync in another, so each one's peak RSS is its own;
3. tracemalloc: one more deals backfill with ``tracemalloc`` on (slower, so not timed);
4. rate limit on: the server at HubSpot's ceilings (100 calls / 10 s, 5 searches / s), the client
   at its defaults (90 / 10 s, 4 searches / s), on a smaller sandbox;
5. a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from tabulate import tabulate

from benchmarks.proc import REPO_ROOT, child_env
from benchmarks.sandbox_proc import SandboxProcess

STREAMS = ("owners", "pipelines", "contacts", "deals")
DEFAULT_DEALS = 100_000
QUICK_DEALS = 10_000
RATE_DEALS = 10_000
QUICK_RATE_DEALS = 2_000
SERVER_PER_10S = 100  # HubSpot's ten-secondly ceiling (the lowest tier)
SERVER_SEARCH_PER_S = 5
BIG_BACKFILL = 50_000  # at or above this many deals the backfill runs once unless --repeat


# ------------------------------------------------------------------------------- helpers
def say(message: str) -> None:
    print(message, flush=True)


def step(n: int, total: int, message: str) -> None:
    say(f"\n[{n}/{total}] {message}")


def default_contacts(deals: int) -> int:
    """Contacts for ``deals`` at the generator's default ratio (2,000 contacts : 600 deals)."""
    from emulators import SandboxConfig

    base = SandboxConfig()
    return round(deals * base.n_contacts / base.n_deals)


def sandbox_path(data_dir: Path, deals: int, contacts: int) -> tuple[Path, Any]:
    from emulators import SandboxConfig

    cfg = SandboxConfig(n_deals=deals, n_contacts=contacts)
    name = f"sandbox_{deals}d_{contacts}c_seed{cfg.seed}_{cfg.months}m.sqlite"
    return data_dir / name, cfg


def ensure_sandbox(data_dir: Path, deals: int, contacts: int) -> tuple[Path, float | None]:
    """Build the sandbox (or reuse the cached one); returns (path, build seconds or None)."""
    from emulators.truth import store

    path, cfg = sandbox_path(data_dir, deals, contacts)
    if path.exists() and store.read_config_json(path) == cfg.to_json():
        say(f"    reusing {rel(path)}")
        return path, None
    say(f"    building {rel(path)} ({deals:,} deals, {contacts:,} contacts) ...")
    t0 = time.monotonic()
    # In a child process: the build's memory must not count towards this process.
    code = (
        "import sys; from pathlib import Path; from emulators import SandboxConfig, build_sandbox; "
        f"build_sandbox(SandboxConfig(n_deals={deals}, n_contacts={contacts}), Path(sys.argv[1]))"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=REPO_ROOT, env=child_env())
    seconds = time.monotonic() - t0
    say(f"    built in {seconds:.1f} s")
    return path, seconds


def rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def sync_now(db: Path) -> str:
    """`now` for the syncs: the wall clock, but never before the sandbox's last day."""
    from emulators import end_date_of

    end = datetime.combine(end_date_of(db) + timedelta(days=1), datetime.min.time(), UTC)
    return max(datetime.now(UTC), end).isoformat()


def run_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one sync in a fresh process (progress on our stderr); return its measurements."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.sync_worker", json.dumps(spec)],
        cwd=REPO_ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"sync worker failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rate(n: float, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("nan")


def fmt_s(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds:,.0f} s ({seconds / 60:.1f} min)"
    return f"{seconds:,.1f} s"


def table(headers: list[str], rows: list[list[Any]], indent: str = "    ") -> str:
    """First column left-aligned, the others right-aligned, under a dashed rule."""
    align = ("left",) + ("right",) * (len(headers) - 1)
    text = tabulate(
        [[str(c) for c in r] for r in rows], headers, tablefmt="simple", colalign=align, disable_numparse=True
    )
    return "\n".join(indent + line.rstrip() for line in text.splitlines())


def peak_in_window(times: list[float], window: float) -> int:
    """Most events in any half-open rolling window of ``window`` seconds."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def machine_facts() -> dict[str, str]:
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    facts = {
        "cpu cores (os.cpu_count)": str(os.cpu_count()),
        "usable cores (affinity)": str(len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else "?",
        "memory": mem or "?",
        "load average (1/5/15 min)": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    for pkg in ("duckdb", "pyarrow", "requests"):
        try:
            facts[pkg] = version(pkg)
        except Exception:
            facts[pkg] = "?"
    return facts


# ------------------------------------------------------------------------------- steps
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
            spec = {
                "base_url": srv.base_url,
                "token": srv.token,
                "warehouse": str(data_dir / "bench_throughput.duckdb"),
                "fresh": True,
                "now": sync_now(db),
                "client": {"rate_limit_per_10s": None, "search_rate_per_s": None},
                "phases": phases,
                "profile_stream": "deals" if profile and i == 0 else None,
            }
            cpu0 = srv.stats()["cpu_s"]
            result = run_worker(spec)
            result["server_cpu_s"] = srv.stats()["cpu_s"] - cpu0
            runs.append(result)
        server = srv.stats()
    return {"runs": runs, "server": server}


def tracemalloc_run(db: Path, data_dir: Path) -> dict[str, Any]:
    with SandboxProcess(db) as srv:
        spec = {
            "base_url": srv.base_url,
            "token": srv.token,
            "warehouse": str(data_dir / "bench_tracemalloc.duckdb"),
            "fresh": True,
            "now": sync_now(db),
            "client": {"rate_limit_per_10s": None, "search_rate_per_s": None},
            "phases": [{"name": "backfill", "streams": ["deals"]}],
            "tracemalloc_stream": "deals",
        }
        return run_worker(spec)


def rate_limited(db: Path, data_dir: Path) -> dict[str, Any]:
    with SandboxProcess(db, rate_limit_per_10s=SERVER_PER_10S, search_rate_per_s=SERVER_SEARCH_PER_S) as srv:
        say(
            f"    sandbox server on {srv.base_url}: {SERVER_PER_10S} calls / 10 s, "
            f"{SERVER_SEARCH_PER_S} searches / s; client at its defaults (90 / 10 s, 4 searches / s)"
        )
        spec = {
            "base_url": srv.base_url,
            "token": srv.token,
            "warehouse": str(data_dir / "bench_ratelimit.duckdb"),
            "fresh": True,
            "now": sync_now(db),
            "client": {},  # HubSpotClient defaults
            "keep_request_times": True,
            "phases": [
                {"name": "backfill", "streams": list(STREAMS)},
                {"name": "incremental-1", "streams": list(STREAMS)},
            ],
        }
        result = run_worker(spec)
        result["server"] = srv.stats()
    return result


# ------------------------------------------------------------------------------- reports
def stream_stats(runs: list[dict[str, Any]], phase: str) -> dict[str, dict[str, Any]]:
    """Per stream: medians over the runs that have ``phase``."""
    out: dict[str, dict[str, Any]] = {}
    for stream in STREAMS:
        samples = [
            s for r in runs for p in r["phases"] if p["name"] == phase for s in p["streams"] if s["stream"] == stream
        ]
        if not samples:
            continue
        first = samples[0]
        secs = [s["seconds"] for s in samples]
        out[stream] = {
            **first,
            "n": len(samples),
            "seconds": med(secs),
            "seconds_min": min(secs),
            "seconds_max": max(secs),
            "http_s": med([s["http_s"] for s in samples]),
            "load_s": med([s["load_s"] for s in samples]),
            "objects_per_s": med([rate(s["objects"], s["seconds"]) for s in samples]),
            "rows_per_s": med([rate(s["rows_written"], s["seconds"]) for s in samples]),
        }
    return out


def report_throughput(res: dict[str, Any], label: str) -> dict[str, Any]:
    runs = res["runs"]
    back = stream_stats(runs, "backfill")
    n = len(runs)
    say(f"\n    Backfill, rate limits off ({label}; {'median of ' + str(n) + ' runs' if n > 1 else '1 run'}):")
    rows = []
    for st in back.values():
        rows_tables = ", ".join(f"{t} {c:,}" for t, c in st["rows_by_table"].items())
        other = st["seconds"] - st["http_s"] - st["load_s"]
        rows.append(
            [
                st["stream"],
                f"{st['objects']:,}",
                rows_tables,
                f"{st['requests']:,}",
                f"{st['seconds']:.2f}",
                f"{st['objects_per_s']:,.0f}",
                f"{st['http_s']:.1f} / {st['load_s']:.1f} / {other:.1f}",
            ]
        )
    say(
        table(
            ["stream", "records", "raw rows written", "requests", "seconds", "records/s", "HTTP / load / rest s"], rows
        )
    )
    total_objects = sum(s["objects"] for s in back.values())
    total_rows = sum(s["rows_written"] for s in back.values())
    totals = [sum(s["seconds"] for p in r["phases"] if p["name"] == "backfill" for s in p["streams"]) for r in runs]
    total_s = med(totals)
    total_req = sum(s["requests"] for s in back.values())
    say(
        f"    overall: {total_objects:,} records ({total_rows:,} raw rows) with {total_req:,} requests "
        f"in {total_s:.1f} s -> {rate(total_objects, total_s):,.0f} records/s, "
        f"{rate(total_rows, total_s):,.0f} raw rows/s, {rate(total_req, total_s):,.0f} requests/s"
    )
    if n > 1:
        say("    backfill totals per run: " + ", ".join(f"{t:.1f} s" for t in totals))
    say("    HTTP = inside requests.Session.request (client HTTP stack + loopback + the sandbox's own work);")
    say("    load = RawLoader.write_batch (Arrow + DuckDB); rest = JSON decoding, row parsing, connector logic.")
    first = runs[0]
    say(
        f"    sandbox server CPU during run 1: {first['server_cpu_s']:.1f} s; "
        f"sync process CPU: {first['cpu_s']:.1f} s; "
        f"warehouse file {first['warehouse_mib']:.0f} MiB"
    )
    say(
        "    peak RSS (ru_maxrss): sync process "
        + ", ".join(f"{r['rss_peak_mib']:.0f}" for r in runs)
        + f" MiB (after imports, before syncing: {first['rss_start_mib']:.0f} MiB); "
        f"sandbox server process {res['server']['peak_rss_mib']:.0f} MiB"
    )
    say(
        "    peak RSS after each stream (run 1): "
        + ", ".join(
            f"{s['stream']} {s['rss_peak_after_mib']:.0f}"
            for p in first["phases"]
            if p["name"] == "backfill"
            for s in p["streams"]
        )
        + " MiB"
    )
    say("    where the load time goes (run 1, seconds per step of RawLoader.write_batch; 'other SQL' also holds")
    say("    sync_stream's cursor read, final counts and sync log):")
    for p in first["phases"]:
        if p["name"] != "backfill":
            continue
        for s in p["streams"]:
            if s["stream"] in ("contacts", "deals"):
                parts = sorted(s["load_breakdown_s"].items(), key=lambda kv: -kv[1])
                say(
                    f"      {s['stream']:8s} ({s['batches']} batches, {s['load_s']:.1f} s, "
                    f"{1000 * s['load_s'] / max(s['batches'], 1):.0f} ms/batch): "
                    + "; ".join(f"{k} {v:.1f}" for k, v in parts if v >= 0.05)
                )
    incr_names = sorted({p["name"] for p in first["phases"] if p["name"].startswith("incremental")})
    incr = None
    if incr_names:
        totals_i = [
            sum(s["seconds"] for s in p["streams"]) for r in runs for p in r["phases"] if p["name"] in incr_names
        ]
        per = {st: [] for st in STREAMS}
        for p in first["phases"]:
            if p["name"] in incr_names:
                for s in p["streams"]:
                    per[s["stream"]].append(s)
        say(f"\n    Incremental re-sync, nothing changed (median of {len(totals_i)}):")
        rows = []
        for stream, samples in per.items():
            if samples:
                s0 = samples[0]
                rows.append(
                    [
                        stream,
                        ", ".join(s0["modes"]) or "-",
                        f"{s0['objects']:,}",
                        f"{s0['requests']:,}",
                        f"{med([s['seconds'] for s in samples]):.2f}",
                    ]
                )
        say(table(["stream", "passes", "records re-read", "requests", "seconds"], rows))
        incr = {"seconds": med(totals_i), "requests": sum(int(r[3].replace(",", "")) for r in rows)}
        say(
            f"    total {incr['seconds']:.2f} s, {incr['requests']} requests (each incremental run re-reads the "
            "archived lists and the 10-minute overlap window)"
        )
    prof = next(
        (
            s.get("profile")
            for p in first["phases"]
            if p["name"] == "backfill"
            for s in p["streams"]
            if s.get("profile")
        ),
        None,
    )
    if prof:
        say(f"\n    cProfile of the deals backfill (sync process only; {prof['total_s']:.1f} s of self time):")
        for cat, secs in sorted(prof["by_category"].items(), key=lambda kv: -kv[1]):
            say(f"      {secs:7.1f} s  {100 * secs / prof['total_s']:5.1f} %  {cat}")
        say("    top functions by self time:")
        for line in prof["top_tottime"].splitlines():
            if line.strip() and ("{" in line or "/" in line or "ncalls" in line):
                say("      " + line.strip()[:160])
    return {
        "back": back,
        "total_s": total_s,
        "total_objects": total_objects,
        "total_rows": total_rows,
        "total_requests": total_req,
        "rss_sync": max(r["rss_peak_mib"] for r in runs),
        "rss_server": res["server"]["peak_rss_mib"],
        "incr": incr,
        "runs": n,
    }


def report_rate_limited(
    res: dict[str, Any], throughput_summary: dict[str, Any] | None, big_deals: int
) -> dict[str, Any]:
    server = res["server"]
    phases = res["phases"]
    clock = sorted((t, srch) for p in phases for t, srch, _status, _path in p.get("request_times", []))
    ordinary = [t for t, srch in clock if not srch]
    search = [t for t, srch in clock if srch]
    peak_client = peak_in_window(ordinary, 10.0)
    peak_search = peak_in_window(search, 1.0)
    throttled = [(t, path) for p in phases for t, _srch, status, path in p.get("request_times", []) if status == 429]
    back = next(p for p in phases if p["name"] == "backfill")
    secs = back["seconds"]
    req = sum(s["requests"] for s in back["streams"])
    objs = sum(s["objects"] for s in back["streams"])
    n429 = server["responses_429"]
    client_429 = sum(s["throttled_429"] for p in phases for s in p["streams"])
    say("\n    Backfill under the rate limit:")
    rows = []
    for s in back["streams"]:
        rows.append(
            [
                s["stream"],
                f"{s['objects']:,}",
                f"{s['requests']:,}",
                f"{rate(s['objects'], s['requests']):.1f}",
                f"{s['seconds']:.1f}",
                f"{rate(s['objects'], s['seconds']):,.0f}",
                f"{rate(s['requests'], s['seconds']):.2f}",
                f"{s['limiter_wait_s']:.1f}",
            ]
        )
    say(
        table(["stream", "records", "requests", "records/req", "seconds", "records/s", "req/s", "limiter wait s"], rows)
    )
    total_req = sum(s["requests"] for p in phases for s in p["streams"])
    total_s = sum(p["seconds"] for p in phases)
    incr_s = sum(p["seconds"] for p in phases if p["name"] != "backfill")
    say(
        f"    backfill {objs:,} records, {req:,} requests in {secs:.1f} s: {rate(objs, secs):,.0f} records/s, "
        f"{rate(req, secs):.2f} requests/s; then one incremental re-sync in {incr_s:.1f} s"
    )
    share_server = server["peak_10s_window"] / SERVER_PER_10S
    say(
        f"    whole run: {total_req:,} requests in {total_s:.1f} s (mean {rate(total_req, total_s):.2f} req/s); "
        f"429 responses: {n429} from the server, {client_429} seen by the client"
    )
    # Which streams the busiest 10 s window spans (each stream gets its own client, as in Dagster).
    ords = sorted((t, path) for p in phases for t, srch, _st, path in p.get("request_times", []) if not srch)
    best, j, best_span = 0, 0, (0, 0)
    for i, (t, _path) in enumerate(ords):
        while ords[j][0] <= t - 10.0:
            j += 1
        if i - j + 1 > best:
            best, best_span = i - j + 1, (j, i)
    if ords:
        objs_in_peak: dict[str, int] = {}
        for _t, path in ords[best_span[0] : best_span[1] + 1]:
            key = path.split("/")[2] if path.count("/") >= 2 else path
            objs_in_peak[key] = objs_in_peak.get(key, 0) + 1
        say(
            f"    busiest 10 s window ({ords[best_span[0]][0]:.1f}-{ords[best_span[1]][0]:.1f} s into the run): "
            + ", ".join(f"{k} {v}" for k, v in objs_in_peak.items())
            + " calls"
        )
    if throttled:
        say(
            f"    server 429 policies: {server.get('rate_limited')}; 429s at "
            + ", ".join(f"{t:.1f} s ({path})" for t, path in throttled[:10])
        )
    say(
        f"    peak ordinary calls in any rolling 10 s window: {server['peak_10s_window']} (server count) / "
        f"{peak_client} (client count) vs the {SERVER_PER_10S} ceiling -> {100 * share_server:.0f} % of it "
        "(the client's own cap is 90)"
    )
    say(
        f"    peak searches in any rolling 1 s window (client count): {peak_search} "
        f"vs the {SERVER_SEARCH_PER_S}/s ceiling"
    )
    deals = next(s for s in back["streams"] if s["stream"] == "deals")
    contacts = next(s for s in back["streams"] if s["stream"] == "contacts")
    d_per_req = rate(deals["objects"], deals["requests"])
    c_per_req = rate(contacts["objects"], contacts["requests"])
    client_rate = 90 / 10
    ceiling_rate = SERVER_PER_10S / 10
    if len(objs_in_peak if ords else {}) > 1:
        say("    -> the peak window spans a stream change; the account's clients share one limiter, so it stays")
        say("       within the client's 90 / 10 s budget.")
    say(
        "    Under the limit the sync is request-bound: the client waits for window slots, so time = "
        "requests / rate and what matters is records per request"
    )
    say(
        f"    (deals {d_per_req:.1f}/request: list pages carry at most 50 deals when propertiesWithHistory is "
        f"asked for; contacts {c_per_req:.1f}/request at 100 per page)."
    )
    big_contacts = default_contacts(big_deals)
    need_d = big_deals / d_per_req if d_per_req else float("nan")
    need_c = big_contacts / c_per_req if c_per_req else float("nan")
    extrap = {
        "deals_requests": need_d,
        "deals_s_client": need_d / client_rate,
        "deals_s_ceiling": need_d / ceiling_rate,
        "all_s_client": (need_d + need_c) / client_rate,
    }
    say(
        f"    Extrapolated from the measured records/request: {big_deals:,} deals need ~{need_d:,.0f} requests -> "
        f"{fmt_s(extrap['deals_s_client'])} at the client's 9 req/s, {fmt_s(extrap['deals_s_ceiling'])} at the "
        f"10 req/s ceiling;"
    )
    say(
        f"    with their ~{big_contacts:,} contacts (~{need_c:,.0f} more requests) the whole backfill takes "
        f"~{fmt_s(extrap['all_s_client'])} at 9 req/s."
    )
    if throughput_summary:
        tr = throughput_summary["total_requests"]
        extrap["measured_requests_s"] = tr / client_rate
        say(
            f"    Cross-check: the unthrottled backfill above made {tr:,} requests -> {fmt_s(tr / client_rate)} at "
            f"9 req/s (vs {throughput_summary['total_s']:.0f} s unthrottled)."
        )
    return {
        "objects": objs,
        "requests": total_req,
        "backfill_s": secs,
        "records_per_s": rate(objs, secs),
        "mean_rate": rate(total_req, total_s),
        "n429": n429,
        "client_429": client_429,
        "peak_server": server["peak_10s_window"],
        "peak_client": peak_client,
        "share": share_server,
        "peak_search": peak_search,
        "d_per_req": d_per_req,
        "c_per_req": c_per_req,
        "extrap": extrap,
    }


# ------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.sync_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--deals", type=int, help=f"deals in the throughput sandbox (default {DEFAULT_DEALS:,})")
    p.add_argument("--contacts", type=int, help="contacts (default: the generator's ratio, 10 per 3 deals)")
    p.add_argument(
        "--repeat",
        type=int,
        help="runs of each throughput measurement (default: 3; the backfill runs once at >= 50,000 deals)",
    )
    p.add_argument("--skip-rate-limit", action="store_true", help="skip the rate-limited run")
    p.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_DEALS:,} deals, small rate-limit run")
    p.add_argument("--rate-deals", type=int, help=f"deals in the rate-limited sandbox (default {RATE_DEALS:,})")
    p.add_argument("--no-tracemalloc", action="store_true", help="skip the (untimed) tracemalloc deals backfill")
    p.add_argument(
        "--tracemalloc-full",
        action="store_true",
        help="trace the full-size deals backfill (about 2.5x its time) instead of the small sandbox's",
    )
    p.add_argument("--profile", action="store_true", help="cProfile the deals backfill of run 1 (slows it down)")
    p.add_argument("--data-dir", default=str(REPO_ROOT / "data" / "bench"))
    args = p.parse_args(argv)

    started = time.monotonic()
    deals = args.deals or (QUICK_DEALS if args.quick else DEFAULT_DEALS)
    contacts = args.contacts if args.contacts is not None else default_contacts(deals)
    rate_deals = args.rate_deals or (QUICK_RATE_DEALS if args.quick else RATE_DEALS)
    repeats = args.repeat or (1 if deals >= BIG_BACKFILL else 3)
    incr_repeats = args.repeat or 3
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    total_steps = 5 - (1 if args.skip_rate_limit else 0) - (1 if args.no_tracemalloc else 0)
    n = 0

    say("HubSpot sync benchmark (figures only; nothing here asserts a speed)")
    facts = machine_facts()
    for k, v in facts.items():
        say(f"    {k:27s} {v}")
    say(
        f"    config: {deals:,} deals, {contacts:,} contacts; backfill runs {repeats}, "
        f"incremental runs {incr_repeats}; "
        f"rate-limited sandbox {'skipped' if args.skip_rate_limit else f'{rate_deals:,} deals'}"
    )

    n += 1
    step(n, total_steps, "sandbox CRMs (cached under data/bench/, keyed by config)")
    db, build_s = ensure_sandbox(data_dir, deals, contacts)
    small_db = None
    if not args.skip_rate_limit or not (args.no_tracemalloc or args.tracemalloc_full):
        small_db, _ = ensure_sandbox(data_dir, rate_deals, default_contacts(rate_deals))
    rate_db = None if args.skip_rate_limit else small_db

    n += 1
    step(
        n,
        total_steps,
        f"throughput, rate limits off: {repeats} backfill run(s) + {incr_repeats} incremental re-sync(s)",
    )
    if args.profile:
        say("    (--profile: cProfile is on for the deals backfill of run 1, so its timings are inflated)")
    tput = report_throughput(throughput(db, data_dir, repeats, incr_repeats, args.profile), f"{deals:,} deals")

    tm = None
    if not args.no_tracemalloc:
        n += 1
        tm_db, tm_deals = (db, deals) if args.tracemalloc_full or small_db is None else (small_db, rate_deals)
        step(
            n,
            total_steps,
            f"tracemalloc: one more deals backfill ({tm_deals:,} deals) with tracemalloc on "
            "(slow: not a throughput run)",
        )
        tm_res = tracemalloc_run(tm_db, data_dir)
        s = tm_res["phases"][0]["streams"][0]
        tm = {
            "peak_mib": s["tracemalloc_peak_mib"],
            "seconds": s["seconds"],
            "rss": tm_res["rss_peak_mib"],
            "deals": tm_deals,
        }
        say(
            f"    peak traced Python allocations during the deals backfill: {tm['peak_mib']:.0f} MiB "
            f"(run took {tm['seconds']:.1f} s with tracing; process peak RSS {tm['rss']:.0f} MiB; "
            "DuckDB's and Arrow's own buffers are not traced)"
        )

    rl = None
    if rate_db is not None:
        n += 1
        step(n, total_steps, f"rate limit on: {rate_deals:,}-deal sandbox at HubSpot's ceilings")
        rl = report_rate_limited(rate_limited(rate_db, data_dir), tput, deals)

    n += 1
    step(n, total_steps, "summary")
    say(summary(facts, deals, contacts, build_s, tput, tm, rl, rate_deals, time.monotonic() - started))
    return 0


def summary(
    facts: dict[str, str],
    deals: int,
    contacts: int,
    build_s: float | None,
    tput: dict[str, Any],
    tm: dict[str, Any] | None,
    rl: dict[str, Any] | None,
    rate_deals: int,
    wall_s: float,
) -> str:
    lines = [
        "=" * 100,
        f"SUMMARY  {deals:,} deals / {contacts:,} contacts  |  {facts['cpu cores (os.cpu_count)']} cores, "
        f"Python {facts['python']}, duckdb {facts['duckdb']}, pyarrow {facts['pyarrow']}",
        "=" * 100,
    ]
    runs = tput["runs"]
    note = f"median of {runs}" if runs > 1 else "1 run"
    rows = []
    for st in tput["back"].values():
        rows.append(
            [
                f"backfill {st['stream']}",
                f"{st['objects']:,}",
                f"{st['rows_written']:,}",
                f"{st['requests']:,}",
                f"{st['seconds']:.2f}",
                f"{st['objects_per_s']:,.0f}",
            ]
        )
    rows.append(
        [
            "backfill total",
            f"{tput['total_objects']:,}",
            f"{tput['total_rows']:,}",
            f"{tput['total_requests']:,}",
            f"{tput['total_s']:.2f}",
            f"{rate(tput['total_objects'], tput['total_s']):,.0f}",
        ]
    )
    if tput["incr"]:
        rows.append(
            ["incremental, no changes", "", "", f"{tput['incr']['requests']:,}", f"{tput['incr']['seconds']:.2f}", ""]
        )
    lines.append(f"Rate limits off ({note}):")
    lines.append(table(["measurement", "records", "raw rows", "requests", "seconds", "records/s"], rows, indent="  "))
    lines.append("")
    mem = [
        ["peak RSS, sync process (ru_maxrss)", f"{tput['rss_sync']:.0f} MiB"],
        ["peak RSS, sandbox server process", f"{tput['rss_server']:.0f} MiB"],
    ]
    if tm:
        mem.append([f"tracemalloc peak, deals backfill of {tm['deals']:,} deals", f"{tm['peak_mib']:.0f} MiB"])
    if build_s is not None:
        mem.append(["sandbox build (this run)", f"{build_s:.1f} s"])
    lines.append(table(["memory", "value"], mem, indent="  "))
    if rl:
        lines.append("")
        lines.append(
            f"Rate limit on (server 100 / 10 s + 5 search / s; client 90 / 10 s + 4 / s; {rate_deals:,} deals):"
        )
        lines.append(
            table(
                ["measurement", "value"],
                [
                    ["requests (backfill + 1 incremental)", f"{rl['requests']:,}"],
                    ["429 responses (server / client)", f"{rl['n429']} / {rl['client_429']}"],
                    ["peak calls in a rolling 10 s window", f"{rl['peak_server']} of 100 ({100 * rl['share']:.0f} %)"],
                    ["peak searches in a rolling 1 s window", f"{rl['peak_search']} of 5"],
                    ["mean request rate", f"{rl['mean_rate']:.2f} req/s"],
                    ["backfill records/s under the limit", f"{rl['records_per_s']:,.0f}"],
                    ["records per request: deals / contacts", f"{rl['d_per_req']:.1f} / {rl['c_per_req']:.1f}"],
                    [f"extrapolated {deals:,}-deal backfill @ 9 req/s", fmt_s(rl["extrap"]["deals_s_client"])],
                    [f"  ... with its {default_contacts(deals):,} contacts", fmt_s(rl["extrap"]["all_s_client"])],
                ],
                indent="  ",
            )
        )
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    lines.append(
        f"\nbenchmark wall time {fmt_s(wall_s)}; load average now {load} (at start "
        f"{facts['load average (1/5/15 min)']}): other work on the machine shows up as slower runs"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
