"""Raw dbt figures at scale: full ``dbt build``, ``dbt run``, and a build after a 1% change.

    python -m benchmarks.dbt_bench                   # 100,000 deals
    python -m benchmarks.dbt_bench --deals 10000     # a fast smoke run

Prints figures; asserts nothing about speed. Steps: the sandbox CRM and its loaded warehouse
(cached, :func:`benchmarks.snapshot_bench.prepare`) are copied; then ``dbt seed``, a full
``dbt build``, a full ``dbt run``; then 1% of the deals change in the sandbox
(:func:`emulators.truth.mutate.mutate`), the change is synced into the copy without HTTP and
``dbt build`` runs again (incrementally where models are incremental). Wall and CPU seconds and
the peak RSS are dbt's own process (``resource.getrusage`` of the child).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from benchmarks.proc import REPO_ROOT
from benchmarks.snapshot_bench import DEFAULT_DEALS, prepare, say

DBT_DIR = REPO_ROOT / "dbt_project"


def dbt(warehouse: Path, target: Path, as_of: date, *args: str, project: Path = DBT_DIR) -> dict[str, float]:
    """Run one dbt command in its own process; returns wall s, CPU s and peak RSS MiB."""
    env = {**os.environ, "DBT_DUCKDB_PATH": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    exe = Path(sys.executable).parent / "dbt"
    cmd = [str(exe if exe.exists() else "dbt"), *args, "--project-dir", str(project), "--profiles-dir", str(project)]
    cmd += ["--target-path", str(target), "--vars", json.dumps({"as_of_date": as_of.isoformat()})]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of the children is the largest child so far (KiB on Linux)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_rss_mib": round(after.ru_maxrss / 1024, 1)}


def run(deals: int, data_dir: Path, changed_share: float, project: Path = DBT_DIR) -> dict[str, object]:
    from emulators.truth.mutate import mutate
    from evaluation.load import load_sandbox

    say(f"[1/4] Sandbox with {deals:,} deals, loaded into DuckDB (cached)")
    warehouse, end = prepare(deals, deals, data_dir)
    sandbox = warehouse.with_suffix(".sqlite")
    work = data_dir / f"dbt_bench_{deals}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    wh, crm, target = work / "warehouse.duckdb", work / "crm.sqlite", work / "target"
    shutil.copy(warehouse, wh)
    shutil.copy(sandbox, crm)
    say("[2/4] dbt seed, full dbt build, dbt run")
    dbt(wh, target, end, "seed", "--full-refresh", project=project)
    figures: dict[str, object] = {"deals": deals, "as_of_date": end.isoformat()}
    figures["build_full"] = dbt(wh, target, end, "build", "--full-refresh", project=project)
    shutil.copy(target / "run_results.json", work / "run_results_build_full.json")
    figures["run"] = dbt(wh, target, end, "run", "--full-refresh", project=project)
    n_changed = max(1, int(deals * changed_share))
    say(f"[3/4] {n_changed:,} deals change in the CRM; synced without HTTP")
    mutate(crm, seed=15, n_updated_deals=n_changed, n_new_deals=n_changed // 10, n_archived_deals=n_changed // 20)
    load_sandbox(crm, wh, replace=False)
    figures["build_after_change"] = dbt(wh, target, end, "build", project=project)
    shutil.copy(target / "run_results.json", work / "run_results_build_after_change.json")
    say("[4/4] Summary")
    for key, value in figures.items():
        say(f"    {key:<20} {value}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=DEFAULT_DEALS)
    parser.add_argument("--changed-share", type=float, default=0.01)
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / "data" / "bench")
    parser.add_argument("--label", default="run")
    parser.add_argument("--project-dir", type=Path, default=DBT_DIR, help="another copy of dbt_project/ to compare")
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    figures = run(args.deals, args.data_dir, args.changed_share, args.project_dir.resolve())
    (args.data_dir / f"dbt_bench_{args.deals}_{args.label}.json").write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
