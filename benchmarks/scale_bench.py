"""Scale figures of the whole chain (``make bench``): raw load, dbt, a 1% change, RSS, checks,
the plain-SQL reference, and the sync's throughput at a realistic round trip.

    python -m benchmarks.scale_bench                      # 100,000 and 1,000,000 deals, 3 runs of each figure
    BENCH_DEALS=100000 python -m benchmarks.scale_bench   # one size (BENCH_DEALS=2000000,... for bigger)
    BENCH_DEALS=20000,200000 python -m benchmarks.scale_bench --repeat 3
    python -m benchmarks.scale_bench --deals 2000 --repeat 1 --sync-deals 1000   # smoke run

Per size (contacts = deals, the generator's sandbox, ``AS_OF_DATE`` = its last day):

* raw load: the sandbox synced into a fresh DuckDB file without HTTP (:func:`evaluation.load.load_sandbox`);
* ``dbt run --full-refresh``, then ``dbt build --full-refresh`` (the pipeline's build: ``PIPELINE_BUILD_ARGS``, no unit tests;
  wall, CPU and peak RSS of dbt's own process). The build comes last, so the 1% change starts from a built and
  tested warehouse as in the pipeline (a ``dbt run`` rewrites every chain row untested: the next build tests them all);
* the same two, of only the reference's marts and everything upstream of them (``--select +<mart> ...``, tests
  with every parent selected): the like-for-like dbt side of the ratio (``--skip-covered`` to leave them out);
* ``dbt build`` after a 1% change: 1% of the deals change in the CRM (:func:`emulators.truth.mutate.mutate`),
  the change is synced into a copy of the built warehouse, then dbt builds (incrementally where it can);
* the anomaly checks (:func:`warehouse.anomaly.checks.registry.run_all`) on the built warehouse;
* ``benchmarks/reference_marts.sql``: the same marts computed by plain DuckDB SQL from the same raw
  tables on the same threads (the ratios' denominator; ``tests/benchmarks`` proves its rows equal dbt's).

Each figure is the median of ``--repeat`` runs (default 3), printed with the load average of the
machine when it ran. Last, :mod:`benchmarks.sync_concurrency`: a backfill at 100 ms per request
against HubSpot's 190 / 10 s ceiling, requests/s and throttled share.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.bench_args import absolute_path, add_sandbox_arguments, tool_parser
from benchmarks.peak_rss import wait_with_peak_rss
from benchmarks.reference import REFERENCE_MARTS, REFERENCE_SQL, reference
from benchmarks.scale_report import load_avg, print_summary, ratios, say
from core.dbt_cli import PIPELINE_BUILD_ARGS

DEFAULT_SIZES = (100_000, 1_000_000)
ONE_MILLION = 1_000_000
CHANGED_SHARE = 0.01


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per key, the median over the runs (``runs`` share their keys)."""
    return {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}


def repeat(label: str, n: int, fn: Callable[[int], dict[str, float]]) -> dict[str, Any]:
    """Run ``fn(i)`` n times; print each run with the load average; return the medians.

    A failing step is reported (``{"error": ...}``) and the benchmark goes on with the next one,
    so one broken figure does not cost an hour of the others."""
    runs = []
    for i in range(n):
        try:
            figures = fn(i)
        except (Exception, SystemExit) as exc:  # dbt() exits with its log's tail
            say(f"      {label} run {i + 1}/{n} FAILED: {str(exc)[-2000:]}")
            return {"error": str(exc)[-2000:], "runs": i}
        runs.append(figures)
        say(f"      {label} run {i + 1}/{n}: {figures}  ({load_avg()})")
    return {**median_of(runs), "runs": n}


def dbt(warehouse: Path, target: Path, as_of: date, *args: str) -> dict[str, float]:
    """One dbt command in its own process: wall s, CPU s, peak RSS MiB of that process alone."""
    from core.dbt_cli import dbt_command, dbt_env
    from core.settings import DBT_PROJECT_DIR

    cmd = dbt_command(*args, "--target-path", str(target))
    started = time.monotonic()
    with open(target.parent / "dbt.log", "w") as log:
        proc = subprocess.Popen(
            cmd, env=dbt_env(warehouse, as_of=as_of), cwd=DBT_PROJECT_DIR, stdout=log, stderr=subprocess.STDOUT
        )
        status, usage, peak_mib = wait_with_peak_rss(proc.pid)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        tail = (target.parent / "dbt.log").read_text()[-3000:]
        raise SystemExit(f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n{tail}")
    out = {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mib": peak_mib}
    if args[0] in ("build", "run"):
        out.update(node_seconds(target))
        # each command's per-node timings kept beside the log (--keep), the next command overwrites target/
        runs = sorted(target.parent.glob(f"run_results_{args[0]}_*.json"))
        shutil.copy(target / "run_results.json", target.parent / f"run_results_{args[0]}_{len(runs) + 1}.json")
    return out


def reference_selector() -> tuple[str, ...]:
    """dbt selection of the reference's marts and everything upstream of them, with the tests
    whose parents are all selected (``cautious``): the like-for-like dbt side of the ratio."""
    return ("--select", " ".join(f"+{m}" for m in REFERENCE_MARTS), "--indirect-selection", "cautious")


def node_seconds(target: Path) -> dict[str, float]:
    """From dbt's own records: seconds in models, in tests, and in the models the reference
    computes (the marts of :data:`REFERENCE_MARTS` and every model upstream of them)."""
    manifest = json.loads((target / "manifest.json").read_text())
    results = json.loads((target / "run_results.json").read_text())["results"]
    parents = manifest["parent_map"]
    wanted = {uid for uid in parents if uid.startswith("model.") and uid.split(".")[-1] in REFERENCE_MARTS}
    todo = list(wanted)
    while todo:
        for parent in parents.get(todo.pop(), []):
            if parent.startswith("model.") and parent not in wanted:
                wanted.add(parent)
                todo.append(parent)
    seconds = {"models_s": 0.0, "tests_s": 0.0, "reference_models_s": 0.0}
    for r in results:
        uid, t = r["unique_id"], float(r.get("execution_time") or 0.0)
        kind = uid.split(".")[0]
        if kind in ("model", "test"):
            seconds[f"{kind}s_s"] += t
        if uid in wanted:
            seconds["reference_models_s"] += t
    return seconds


def raw_load(crm: Path, warehouse: Path) -> dict[str, float]:
    """A fresh backfill of the sandbox into ``warehouse`` without HTTP: wall and CPU seconds."""
    from evaluation.load import load_sandbox

    cpu0 = time.process_time()
    wall = load_sandbox(crm, warehouse).seconds
    return {"wall_s": wall, "cpu_s": time.process_time() - cpu0}


def checks(warehouse: Path, as_of: date) -> dict[str, float]:
    from warehouse.anomaly.checks.registry import run_all

    cpu0 = time.process_time()
    started = time.monotonic()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        outcomes = run_all(con, as_of)
    return {"wall_s": time.monotonic() - started, "cpu_s": time.process_time() - cpu0, "checks": len(outcomes)}


def sandbox_for(deals: int, data_dir: Path) -> tuple[Path, date]:
    from emulators.truth import store
    from emulators.truth.generator import SandboxConfig, build_sandbox, end_date_of

    cfg = SandboxConfig(n_deals=deals, n_contacts=deals)
    path = data_dir / f"scale_{deals}d_seed{cfg.seed}.sqlite"
    if not (path.exists() and store.read_config_json(path) == cfg.to_json()):
        started = time.monotonic()
        build_sandbox(cfg, path)
        say(f"    sandbox built in {time.monotonic() - started:.1f} s")
    return path, end_date_of(path)


def copy_raw(source: Path, warehouse: Path) -> None:
    """``warehouse`` = the raw schemas of ``source`` (a warehouse loaded before; its other schemas dropped)."""
    shutil.copy(source, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        schemas = con.execute(
            "select schema_name from information_schema.schemata "
            "where catalog_name = current_database() and schema_name not like 'raw\\_%' escape '\\' "
            "and schema_name not in ('main', 'information_schema', 'pg_catalog')"
        ).fetchall()
        for (schema,) in schemas:
            con.execute(f'drop schema "{schema}" cascade')


def run_size(
    deals: int,
    n: int,
    data_dir: Path,
    threads: int,
    keep: bool = False,
    raw_from: Path | None = None,
    covered_marts: bool = True,
) -> dict[str, Any]:
    from emulators.truth.mutate import mutate
    from evaluation.load import load_sandbox

    work = data_dir / f"scale_{deals}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    target = work / "target"
    say(f"\n== {deals:,} deals ({load_avg()})")
    crm, as_of = sandbox_for(deals, data_dir)
    wh = work / "warehouse.duckdb"
    out: dict[str, Any] = {"deals": deals, "as_of_date": as_of.isoformat()}
    partial = data_dir / f"scale_bench_{deals}.json"  # rewritten after every step

    def step(key: str, label: str, fn: Callable[[int], dict[str, float]]) -> None:
        out[key] = repeat(label, n, fn)
        partial.write_text(json.dumps(out, indent=2))

    if raw_from is None:
        say("    raw load without HTTP (fresh DuckDB file each run)")
        step("raw_load", "raw load", lambda _i: raw_load(crm, wh))
    else:  # the dbt figures only: raw tables as a previous run of this size loaded them
        say(f"    raw tables copied from {raw_from} (raw load not timed)")
        copy_raw(raw_from, wh)
        out["raw_load"] = {"skipped": f"raw tables copied from {raw_from.name}", "runs": n}

    dbt(wh, target, as_of, "seed", "--full-refresh")
    # `dbt run` first: a run rewrites every chain row untested, so the next build would test
    # every row again; the 1% change starts from a built (and tested) warehouse, as in the pipeline
    say("    dbt run --full-refresh")
    step("dbt_run", "dbt run", lambda _i: dbt(wh, target, as_of, "run", "--full-refresh"))
    if covered_marts:
        covered = reference_selector()
        say("    dbt run --full-refresh, the reference's marts and their upstream only")
        step(
            "dbt_run_covered", "dbt run (covered)", lambda _i: dbt(wh, target, as_of, "run", "--full-refresh", *covered)
        )
        say("    dbt build --full-refresh, the reference's marts, their upstream and their tests only")
        step(
            "dbt_build_covered",
            "dbt build (covered)",
            lambda _i: dbt(wh, target, as_of, "build", *PIPELINE_BUILD_ARGS, "--full-refresh", *covered),
        )
    say("    dbt build --full-refresh")
    step("dbt_build", "dbt build", lambda _i: dbt(wh, target, as_of, "build", *PIPELINE_BUILD_ARGS, "--full-refresh"))
    built = work / "built.duckdb"
    shutil.copy(wh, built)

    say("    anomaly checks on the built warehouse")
    step("checks", "checks", lambda _i: checks(wh, as_of))
    say(f"    plain-SQL reference ({REFERENCE_SQL.name}, {threads} threads)")
    step("reference", "reference", lambda _i: reference(wh, threads, as_of))

    n_changed = max(1, int(deals * CHANGED_SHARE))
    say(f"    dbt build after a 1% change ({n_changed:,} deals updated in the CRM, synced without HTTP)")
    changed_crm = work / "crm_changed.sqlite"
    changed = work / "changed.duckdb"

    def after_change(i: int) -> dict[str, float]:
        if i == 0:  # the changed CRM, synced into a copy of the built warehouse (not timed)
            shutil.copy(crm, changed_crm)
            mutate(changed_crm, seed=15, n_updated_deals=n_changed, n_new_deals=max(1, n_changed // 10))
            shutil.copy(built, changed)
            load_sandbox(changed_crm, changed, replace=False)
        shutil.copy(changed, wh)
        return dbt(wh, target, as_of, "build", *PIPELINE_BUILD_ARGS)

    step("dbt_build_after_1pct", "build after 1%", after_change)
    out["ratios"] = ratios(out)
    partial.write_text(json.dumps(out, indent=2))
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return out


def sizes_from(args: argparse.Namespace) -> list[int]:
    env = os.environ.get("BENCH_DEALS")
    if args.deals:
        sizes = [args.deals]
    elif env:
        sizes = [int(x.replace("_", "")) for x in env.split(",") if x.strip()]
    else:
        sizes = list(DEFAULT_SIZES)
    if args.with_1m and ONE_MILLION not in sizes:
        sizes.append(ONE_MILLION)
    return sizes


def main(argv: list[str] | None = None) -> int:
    p = tool_parser("benchmarks.scale_bench", __doc__)
    add_sandbox_arguments(p, "one size (default: BENCH_DEALS, else 100,000 and 1,000,000)")
    p.add_argument("--with-1m", action="store_true", help="add 1,000,000 deals to BENCH_DEALS / --deals")
    p.add_argument("--repeat", type=int, default=3, help="runs per figure (median; default 3)")
    p.add_argument("--threads", type=int, default=int(os.environ.get("WAREHOUSE_THREADS") or 2))
    p.add_argument("--sync-deals", type=int, default=6_000, help="deals in the sync throughput sandbox")
    p.add_argument("--sync-latency-ms", type=float, default=100.0)
    p.add_argument("--skip-sync", action="store_true")
    p.add_argument("--sync-sequential", action="store_true", help="also time the one-request-at-a-time sync")
    p.add_argument("--keep", action="store_true", help="keep each size's work folder (warehouse, dbt log)")
    p.add_argument(
        "--raw-warehouse",
        type=absolute_path,
        help="one size only: take the raw tables from this warehouse (e.g. a --keep run's built.duckdb) "
        "instead of timing a raw load; its other schemas are dropped",
    )
    p.add_argument(
        "--skip-covered",
        action="store_true",
        help="skip the like-for-like dbt build and run of only the reference's marts and their upstream",
    )
    args = p.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    say(f"Scale benchmark: sizes {sizes_from(args)}, {args.repeat} run(s) per figure ({load_avg()})")
    if args.raw_warehouse and len(sizes_from(args)) != 1:
        p.error("--raw-warehouse needs one size (--deals)")
    results = [
        run_size(d, args.repeat, args.data_dir, args.threads, args.keep, args.raw_warehouse, not args.skip_covered)
        for d in sizes_from(args)
    ]
    sync = None
    if not args.skip_sync:
        from benchmarks.sync_concurrency import DEFAULT_PER_10S, measure

        say(f"\n== Sync throughput ({args.sync_deals:,} deals, {args.sync_latency_ms:g} ms per request)")
        modes = ["sequential", "concurrent"] if args.sync_sequential else ["concurrent"]
        sync = measure(args.sync_deals, args.sync_latency_ms, DEFAULT_PER_10S, modes, args.data_dir)
    print_summary(results, sync, REFERENCE_MARTS)
    say(f"\n(total {time.monotonic() - started:.0f} s)")
    (args.data_dir / "scale_bench.json").write_text(json.dumps({"sizes": results, "sync": sync}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
