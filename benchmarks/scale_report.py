"""The printed summary of :mod:`benchmarks.scale_bench`: per size, the medians; then issue 15's
table (each target against what this run measured, at the largest size)."""

from __future__ import annotations

import os
from typing import Any

TARGETS: tuple[tuple[str, str, float], ...] = (
    ("dbt build / plain SQL (wall)", "dbt_build / reference", 3.0),
    ("dbt run / plain SQL (wall)", "dbt_run / reference", 2.0),
    ("dbt build after a 1% change / full build (wall)", "build after 1% / full build", 0.25),
)
COVERED_TARGETS: tuple[tuple[str, str, float], ...] = (
    ("same marts: dbt build of the covered marts / plain SQL (wall)", "dbt_build covered marts / reference", 3.0),
    ("same marts: dbt run of the covered marts / plain SQL (wall)", "dbt_run covered marts / reference", 2.0),
)
"""The like-for-like rows: dbt builds only the marts the reference computes (and their upstream)."""
RAW_LOAD_RATIO_TARGET = 10.5
PEAK_RSS_TARGET_MIB = 1536.0


def say(message: str) -> None:
    print(message, flush=True)


def load_avg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def ratios(out: dict[str, Any]) -> dict[str, float]:
    """The size's ratios, wall and CPU (the CPU ones are the steadier on a shared machine);
    none when a figure they need failed."""
    ref, build, run, after = out["reference"], out["dbt_build"], out["dbt_run"], out["dbt_build_after_1pct"]
    if any("error" in f for f in (ref, build, run, after)):
        return {}
    return {
        "dbt_build / reference": round(build["wall_s"] / ref["wall_s"], 2),
        "dbt_run / reference": round(run["wall_s"] / ref["wall_s"], 2),
        "build after 1% / full build": round(after["wall_s"] / build["wall_s"], 2),
        "same models in dbt run / reference": round(run["reference_models_s"] / ref["wall_s"], 2),
        "dbt_build / reference (CPU)": round(build["cpu_s"] / ref["cpu_s"], 2),
        "dbt_run / reference (CPU)": round(run["cpu_s"] / ref["cpu_s"], 2),
        "build after 1% / full build (CPU)": round(after["cpu_s"] / build["cpu_s"], 2),
        **covered_ratios(out),
    }


def covered_ratios(out: dict[str, Any]) -> dict[str, float]:
    """dbt build / run of only the reference's marts and their upstream against the reference."""
    ref, found = out["reference"], {}
    for key, label in (("dbt_build_covered", "dbt_build covered marts"), ("dbt_run_covered", "dbt_run covered marts")):
        f = out.get(key) or {}
        if "cpu_s" in f:
            found[f"{label} / reference"] = round(f["wall_s"] / ref["wall_s"], 2)
            found[f"{label} / reference (CPU)"] = round(f["cpu_s"] / ref["cpu_s"], 2)
    return found


def print_size(r: dict[str, Any], reference_marts: tuple[str, ...]) -> None:
    say(f"  {r['deals']:,} deals (as of {r['as_of_date']}):")
    for key, label in (
        ("raw_load", "raw load (no HTTP)"),
        ("dbt_build", "dbt build"),
        ("dbt_run", "dbt run"),
        ("dbt_build_covered", "dbt build, covered marts"),
        ("dbt_run_covered", "dbt run, covered marts"),
        ("dbt_build_after_1pct", "dbt build after 1% change"),
        ("checks", "anomaly checks"),
        ("reference", "plain-SQL reference"),
    ):
        f = r.get(key)
        if f is None:
            continue
        if "skipped" in f:
            say(f"    {label:<27} not timed ({f['skipped']})")
            continue
        if "error" in f:
            say(f"    {label:<27} FAILED ({f['error'][-200:]})")
            continue
        extra = f", peak RSS {f['peak_rss_mib']:.0f} MiB" if "peak_rss_mib" in f else ""
        extra += f" ({f['checks']:.0f} checks)" if "checks" in f else ""
        say(f"    {label:<27} {f['wall_s']:>8.1f} s wall, {f['cpu_s']:.1f} s CPU{extra}")
    say(f"      ({', '.join(reference_marts)})")
    for k, v in r["ratios"].items():
        say(f"    {k:<35} {v:>8.2f}x")


def print_targets(results: list[dict[str, Any]]) -> None:
    """Issue 15's table: now (this run, the largest size) against the target."""
    big = results[-1]
    if not big["ratios"]:
        say(f"\n== Issue 15's table: a figure failed at {big['deals']:,} deals (above)")
        return
    say(f"\n== Issue 15's table at {big['deals']:,} deals (medians of {big['dbt_build']['runs']}; now vs target)")
    say("  | figure | now | target |")
    say("  |---|---|---|")
    for label, key, target in TARGETS:
        now = big["ratios"][key]
        say(f"  | {label} | {now:.2f}x (CPU {big['ratios'][key + ' (CPU)']:.2f}x) | <= {target:g}x |")
    for label, key, target in COVERED_TARGETS:
        if key in big["ratios"]:
            now = big["ratios"][key]
            say(f"  | {label} | {now:.2f}x (CPU {big['ratios'][key + ' (CPU)']:.2f}x) | <= {target:g}x |")
    if len(results) >= 2 and "wall_s" in results[0]["raw_load"] and "wall_s" in big["raw_load"]:
        small = results[0]
        wall = big["raw_load"]["wall_s"] / small["raw_load"]["wall_s"]
        cpu = big["raw_load"]["cpu_s"] / small["raw_load"]["cpu_s"]
        say(
            f"  | raw load {big['deals']:,} / {small['deals']:,} (no HTTP) | {wall:.1f}x wall, {cpu:.1f}x CPU "
            f"| <= {RAW_LOAD_RATIO_TARGET:g}x |"
        )
    rss = big["dbt_build"]["peak_rss_mib"]
    say(f"  | peak RSS of dbt build | {rss:,.0f} MiB | <= {PEAK_RSS_TARGET_MIB:,.0f} MiB |")


def print_summary(
    results: list[dict[str, Any]], sync: list[dict[str, Any]] | None, reference_marts: tuple[str, ...]
) -> None:
    say(f"\n== Summary (medians; {load_avg()})")
    for r in results:
        print_size(r, reference_marts)
    for s in sync or []:
        say(
            f"  sync ({s['mode']}, in flight <= {s['max_concurrency']}): {s['req_per_s']:.1f} req/s = "
            f"{s['share_of_ceiling_pct']:.0f}% of the {s['ceiling_per_s']:g}/s ceiling, "
            f"{s['throttled_pct']:.2f}% throttled ({s['requests']:,} requests in {s['seconds']:.0f} s)"
        )
    if results:
        print_targets(results)
