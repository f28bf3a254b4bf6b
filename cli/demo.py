"""`make demo`: build the sandbox CRM, serve it on loopback, run everything, summarize.

The demo writes to its own warehouse (``data/demo/warehouse.duckdb`` unless WAREHOUSE_PATH is
set) so sandbox rows never mix with a real HubSpot account's raw tables, and pins AS_OF_DATE to
the sandbox's fixed end date so its numbers do not drift from day to day.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from core.settings import ROOT, resolve_path

STEPS = 5


def _step(n: int, text: str) -> None:
    print(f"\n[{n}/{STEPS}] {text}", flush=True)


def _wait_for_port_file(path: Path, proc: subprocess.Popen, timeout_s: float = 600) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        if proc.poll() is not None:
            raise RuntimeError(f"the sandbox exited early with code {proc.returncode}; see its output above")
        time.sleep(0.2)
    raise RuntimeError("the sandbox did not start listening in time")


def _forget_warehouse_of_a_rebuilt_sandbox(db: Path, config) -> None:
    """A sandbox rebuilt from a new generator version is another CRM: the demo's own warehouse
    (the default path only) would otherwise sync it incrementally over the old one's history."""
    from emulators.truth import store

    if os.environ.get("WAREHOUSE_PATH") != "data/demo/warehouse.duckdb" or not db.exists():
        return
    if store.read_config_json(db) == config.to_json():
        return
    warehouse = resolve_path(os.environ["WAREHOUSE_PATH"])
    for path in (warehouse, Path(str(warehouse) + ".wal")):
        if path.exists():
            print(f"    the sandbox changed: starting {path.relative_to(ROOT)} afresh")
            path.unlink()


def run_demo(*, deals: int = 600, contacts: int = 2000, seed: int = 7) -> int:
    from emulators.truth.generator import SandboxConfig, build_sandbox, end_date_of

    os.environ.setdefault("WAREHOUSE_PATH", "data/demo/warehouse.duckdb")
    sandbox_dir = ROOT / "data" / "sandbox"
    sandbox_dir.mkdir(parents=True, exist_ok=True)
    db = sandbox_dir / f"hubspot-s{seed}-d{deals}-c{contacts}.sqlite"
    port_file = sandbox_dir / "hubspot.url"
    port_file.unlink(missing_ok=True)
    token = "sandbox-" + secrets.token_hex(16)

    _step(1, f"Building the sandbox CRM ({contacts} contacts, {deals} deals, seed {seed}) in {db.relative_to(ROOT)}")
    started = time.monotonic()
    config = SandboxConfig(seed=seed, n_contacts=contacts, n_deals=deals)
    _forget_warehouse_of_a_rebuilt_sandbox(db, config)
    build_sandbox(config, db)
    print(f"    ready in {time.monotonic() - started:.1f}s (rebuilt only when missing)")
    _step(2, "Starting the sandbox HubSpot API on loopback")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulators",
            "serve",
            "--db",
            str(db),
            "--build-if-missing",
            "--deals",
            str(deals),
            "--contacts",
            str(contacts),
            "--seed",
            str(seed),
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--rate-limit-per-10s",
            "100",
            "--search-rate-per-s",
            "5",
        ],
        env={**os.environ, "SANDBOX_TOKEN": token},
        cwd=ROOT,
    )
    try:
        base_url = _wait_for_port_file(port_file, proc)
        as_of = end_date_of(db).isoformat()
        os.environ.update({"HUBSPOT_BASE_URL": base_url, "HUBSPOT_ACCESS_TOKEN": token, "AS_OF_DATE": as_of})
        _step(
            3,
            f"Syncing HubSpot into {resolve_path(os.environ['WAREHOUSE_PATH']).relative_to(ROOT)} "
            f"and building dbt (as_of_date {as_of})",
        )
        from cli.main import run_refresh

        code = run_refresh()
        _step(4, "Summary")
        if code == 0:
            from core.settings import publish_dir
            from warehouse.summary import print_summary

            marts_db = publish_dir() / "sales_marts.duckdb"
            print_summary(marts_db)
            print(f"\n    BI tools: open {marts_db.relative_to(ROOT)} read-only, or the Parquet files beside it.")
        else:
            print("The run failed; see the log above.")
    finally:
        _step(5, "Stopping the sandbox")
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        port_file.unlink(missing_ok=True)
    if code == 0:
        print("\nDone. Explore the lineage with `make ui`; query the warehouse with duckdb (see README).")
    return code
