"""Cost of the daily pipeline snapshot (``fct_pipeline_snapshot_daily``) at scale (``make bench``).

    python -m benchmarks.snapshot_bench                  # 100,000 deals
    python -m benchmarks.snapshot_bench --deals 10000    # a fast smoke run

Prints figures; asserts nothing about speed. Steps:

1. a sandbox CRM (SQLite, cached under ``data/bench/``) loaded into a fresh DuckDB warehouse
   through the real connector without HTTP (:func:`evaluation.load.load_sandbox`; cached too);
2. the models upstream of the snapshot as of the day before the sandbox's end, then the snapshot
   as a full build (the state a daily run starts from);
3. the upstream models as of the end day, then the snapshot **incrementally** (one new day plus
   the deals whose history changed since), then the same as a **full refresh**;
4. rows, days, deals and the table's size in the DuckDB file (its storage blocks).

The model's own build time is dbt's (``run_results.json``), without dbt's start-up and parse.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from benchmarks.bench_args import BENCH_DATA_DIR, absolute_path
from benchmarks.proc import REPO_ROOT
from core.settings import AS_OF_DATE_ENV

MODEL = "fct_pipeline_snapshot_daily"
DEFAULT_DEALS = 100_000
DBT_DIR = REPO_ROOT / "dbt_project"


def say(message: str) -> None:
    print(message, flush=True)


def prepare(deals: int, contacts: int, data_dir: Path) -> tuple[Path, date]:
    """The sandbox and its loaded warehouse (both cached by config); returns (warehouse, end day)."""
    from emulators.truth import store
    from emulators.truth.generator import SandboxConfig, build_sandbox, end_date_of
    from evaluation.load import load_sandbox

    cfg = SandboxConfig(n_deals=deals, n_contacts=contacts)
    sandbox = data_dir / f"snapshot_{deals}d_{contacts}c_seed{cfg.seed}.sqlite"
    warehouse = data_dir / f"snapshot_{deals}d_{contacts}c_seed{cfg.seed}.duckdb"
    stamp = warehouse.with_suffix(".loaded.json")
    if not (sandbox.exists() and store.read_config_json(sandbox) == cfg.to_json()):
        started = time.monotonic()
        build_sandbox(cfg, sandbox)
        say(f"    sandbox built in {time.monotonic() - started:.1f} s")
    if not (warehouse.exists() and stamp.exists() and json.loads(stamp.read_text()) == cfg.to_json()):
        report = load_sandbox(sandbox, warehouse)
        stamp.write_text(json.dumps(cfg.to_json()))
        say(f"    raw tables loaded in {report.seconds:.1f} s ({report.records})")
    else:
        say(f"    reusing {warehouse.relative_to(REPO_ROOT)}")
    return warehouse, end_date_of(sandbox)


def dbt(warehouse: Path, target: Path, command: str, as_of: date, *args: str) -> dict[str, float]:
    """Run dbt; returns {model name: execution seconds} from run_results.json."""
    env = {**os.environ, "DBT_DUCKDB_PATH": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env[AS_OF_DATE_ENV] = as_of.isoformat()  # not --vars: a new day keeps dbt's partial parse
    exe = Path(sys.executable).parent / "dbt"
    cmd = [str(exe if exe.exists() else "dbt"), command, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    cmd += ["--target-path", str(target), *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"dbt {command} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1]: float(r["execution_time"]) for r in results}


def table_figures(warehouse: Path) -> dict[str, float]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows, days, deals = con.execute(
            f"select count(*), count(distinct snapshot_date), count(distinct deal_id) from marts.{MODEL}"
        ).fetchone()
        blocks = con.execute(
            f"select count(distinct block_id) from pragma_storage_info('marts.{MODEL}') where block_id >= 0"
        ).fetchone()[0]
        block_size = con.execute("select block_size from pragma_database_size()").fetchone()[0]
    return {"rows": rows, "days": days, "deals": deals, "bytes": blocks * block_size}


def run(deals: int, contacts: int, data_dir: Path) -> dict[str, object]:
    say(f"[1/4] Sandbox with {deals:,} deals and {contacts:,} contacts, loaded into DuckDB")
    warehouse, end = prepare(deals, contacts, data_dir)
    target = data_dir / "snapshot_dbt_target"
    upstream = ["--select", f"+{MODEL}", "--exclude", MODEL]
    say(f"[2/4] Upstream models and a full snapshot as of {end - timedelta(days=1)}")
    dbt(warehouse, target, "seed", end, "--full-refresh")
    dbt(warehouse, target, "run", end - timedelta(days=1), *upstream)
    dbt(warehouse, target, "run", end - timedelta(days=1), "--select", MODEL, "--full-refresh")
    before = table_figures(warehouse)
    say(f"[3/4] As of {end}: incremental build, then a full refresh")
    upstream_s = sum(dbt(warehouse, target, "run", end, *upstream).values())
    incremental_s = dbt(warehouse, target, "run", end, "--select", MODEL)[MODEL]
    after_incremental = table_figures(warehouse)
    full_s = dbt(warehouse, target, "run", end, "--select", MODEL, "--full-refresh")[MODEL]
    after_full = table_figures(warehouse)
    if after_full["rows"] != after_incremental["rows"]:
        raise SystemExit(f"incremental ({after_incremental['rows']}) and full ({after_full['rows']}) row counts differ")
    say("[4/4] Summary")
    summary = {
        "deals": deals,
        "as_of_date": end.isoformat(),
        "rows": after_full["rows"],
        "days": after_full["days"],
        "deals_with_rows": after_full["deals"],
        "size_mib": round(after_full["bytes"] / 2**20, 1),
        "bytes_per_row": round(after_full["bytes"] / max(1, after_full["rows"]), 1),
        "full_build_s": round(full_s, 2),
        "incremental_build_s": round(incremental_s, 2),
        "incremental_new_rows": after_incremental["rows"] - before["rows"],
        "upstream_models_s": round(upstream_s, 2),
    }
    for k, v in summary.items():
        say(f"    {k:<22} {v:,}" if isinstance(v, int | float) else f"    {k:<22} {v}")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=DEFAULT_DEALS)
    parser.add_argument("--contacts", type=int, default=None, help="default: one per deal")
    parser.add_argument("--data-dir", type=absolute_path, default=BENCH_DATA_DIR)
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    summary = run(args.deals, args.contacts or args.deals, args.data_dir)
    (args.data_dir / f"snapshot_bench_{args.deals}.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
