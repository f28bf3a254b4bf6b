"""Throughput report of the sync benchmark: per-stream figures of the backfill and re-syncs."""

from __future__ import annotations

from typing import Any

from benchmarks.sync_common import (
    STREAMS,
    med,
    rate,
    say,
    table,
)


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
