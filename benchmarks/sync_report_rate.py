"""Rate-limit report of the sync benchmark: calls per window against HubSpot's ceilings."""

from __future__ import annotations

from typing import Any

from benchmarks.sync_common import (
    SERVER_PER_10S,
    SERVER_SEARCH_PER_S,
    default_contacts,
    fmt_s,
    peak_in_window,
    rate,
    say,
    table,
)


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
