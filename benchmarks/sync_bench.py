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
5. at a realistic round trip (``--latency-ms``, default 100; 0 skips it): a backfill of the
   issue's 20,000-deal / 40,000-contact account with HubSpot Pro's 190 calls / 10 s enforced and
   the client configured to it (:mod:`benchmarks.sync_concurrency`): calls/s against that ceiling,
   throttled share, requests, wall time (``--latency-modes list,concurrent`` adds the sync
   without the split backfill, for comparison);
6. a summary.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_args import BENCH_DATA_DIR, absolute_path
from benchmarks.sync_common import (
    BIG_BACKFILL,
    DEFAULT_DEALS,
    QUICK_DEALS,
    QUICK_RATE_DEALS,
    RATE_DEALS,
    default_contacts,
    ensure_sandbox,
    fmt_s,
    machine_facts,
    rate,
    say,
    step,
    table,
)
from benchmarks.sync_report_rate import (
    report_rate_limited,
)
from benchmarks.sync_report_throughput import (
    report_throughput,
)
from benchmarks.sync_steps import (
    rate_limited,
    throughput,
    tracemalloc_run,
)


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
    p.add_argument("--latency-ms", type=float, default=100.0, help="round trip of the latency step (0: skip it)")
    p.add_argument("--latency-deals", type=int, help="deals of the latency step (default 20,000; --quick 2,000)")
    p.add_argument("--latency-contacts", type=int, help="contacts of the latency step (default 2 per deal)")
    p.add_argument("--latency-modes", default="concurrent", help="sequential, list and/or concurrent")
    p.add_argument("--latency-only", action="store_true", help="only the latency step (the sync figure of issue 15)")
    p.add_argument("--data-dir", type=absolute_path, default=BENCH_DATA_DIR)
    args = p.parse_args(argv)

    started = time.monotonic()
    deals = args.deals or (QUICK_DEALS if args.quick else DEFAULT_DEALS)
    contacts = args.contacts if args.contacts is not None else default_contacts(deals)
    rate_deals = args.rate_deals or (QUICK_RATE_DEALS if args.quick else RATE_DEALS)
    repeats = args.repeat or (1 if deals >= BIG_BACKFILL else 3)
    incr_repeats = args.repeat or 3
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    total_steps = 6 - (1 if args.skip_rate_limit else 0) - (1 if args.no_tracemalloc else 0)
    total_steps -= 1 if not args.latency_ms else 0
    n = 0

    say("HubSpot sync benchmark (figures only; nothing here asserts a speed)")
    facts = machine_facts()
    for k, v in facts.items():
        say(f"    {k:27s} {v}")
    if args.latency_only:
        lat = latency_step(args, data_dir, 1, 1)
        say("\n".join(latency_lines(lat)))
        return 0
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

    lat = None
    if args.latency_ms:
        n += 1
        lat = latency_step(args, data_dir, n, total_steps)

    n += 1
    step(n, total_steps, "summary")
    say(summary(facts, deals, contacts, build_s, tput, tm, rl, rate_deals, time.monotonic() - started, lat))
    return 0


def latency_step(args: argparse.Namespace, data_dir: Path, n: int, total_steps: int) -> list[dict[str, Any]]:
    """The sync at a realistic round trip (:mod:`benchmarks.sync_concurrency`)."""
    from benchmarks.sync_concurrency import DEFAULT_PER_10S, measure

    lat_deals = args.latency_deals or (2_000 if args.quick else 20_000)
    lat_contacts = args.latency_contacts or 2 * lat_deals
    step(
        n,
        total_steps,
        f"{args.latency_ms:g} ms per request: {lat_deals:,}-deal / {lat_contacts:,}-contact backfill at "
        f"{DEFAULT_PER_10S} calls / 10 s",
    )
    return measure(lat_deals, args.latency_ms, DEFAULT_PER_10S, args.latency_modes.split(","), data_dir, lat_contacts)


def latency_lines(lat: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    lines.append("At a realistic round trip (the sync figure of issue 15: >= 90 % of the ceiling, <= 1 % throttled):")
    lines.append(
        table(
            [
                "mode",
                "ordinary calls/s",
                "% of ceiling",
                "search calls/s",
                "throttled",
                "requests",
                "wall",
                "re-run",
            ],
            [
                [
                    r["mode"],
                    f"{r['req_per_s']:.1f}",
                    f"{r['share_of_ceiling_pct']:.0f} % of {r['ceiling_per_s']:g}/s",
                    f"{r['search_per_s']:.1f}",
                    f"{r['throttled_pct']:.2f} %",
                    f"{r['requests']:,}",
                    fmt_s(r["seconds"]),
                    f"{r['rerun_requests']} requests",
                ]
                for r in lat
            ],
            indent="  ",
        )
    )
    return lines


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
    lat: list[dict[str, Any]] | None = None,
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
    if lat:
        lines.append("")
        lines.extend(latency_lines(lat))
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    lines.append(
        f"\nbenchmark wall time {fmt_s(wall_s)}; load average now {load} (at start "
        f"{facts['load average (1/5/15 min)']}): other work on the machine shows up as slower runs"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
