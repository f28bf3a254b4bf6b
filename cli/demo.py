"""`make demo`: build the sandbox CRM and ad accounts, serve HubSpot, Google Ads and Meta on
loopback, run everything, summarize.

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


def run_demo(*, deals: int = 600, contacts: int = 2000, seed: int = 7) -> int:
    from emulators.truth.generator import SandboxConfig, build_sandbox, end_date_of

    os.environ.setdefault("WAREHOUSE_PATH", "data/demo/warehouse.duckdb")
    sandbox_dir = ROOT / "data" / "sandbox"
    sandbox_dir.mkdir(parents=True, exist_ok=True)
    db = sandbox_dir / f"hubspot-s{seed}-d{deals}-c{contacts}.sqlite"
    port_file = sandbox_dir / "hubspot.url"
    port_file.unlink(missing_ok=True)
    token = "sandbox-" + secrets.token_hex(16)

    _step(
        1,
        f"Building the sandbox CRM ({contacts} contacts, {deals} deals, seed {seed}) and its Google Ads and "
        f"Meta accounts in {db.relative_to(ROOT)}",
    )
    started = time.monotonic()
    build_sandbox(SandboxConfig(seed=seed, n_contacts=contacts, n_deals=deals), db)
    print(f"    ready in {time.monotonic() - started:.1f}s (rebuilt only when missing)")
    _step(2, "Starting the sandbox HubSpot, Google Ads and Meta APIs on loopback")
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
    ad_procs: list[subprocess.Popen] = []
    try:
        base_url = _wait_for_port_file(port_file, proc)
        ad_env = _start_ad_sandboxes(db, sandbox_dir, ad_procs)
        as_of = end_date_of(db).isoformat()
        os.environ.update({"HUBSPOT_BASE_URL": base_url, "HUBSPOT_ACCESS_TOKEN": token, "AS_OF_DATE": as_of})
        os.environ.update(ad_env)
        _step(
            3,
            f"Syncing HubSpot, Google Ads and Meta into {resolve_path(os.environ['WAREHOUSE_PATH']).relative_to(ROOT)} "
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
        for p in (proc, *ad_procs):
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        port_file.unlink(missing_ok=True)
    if code == 0:
        print("\nDone. Explore the lineage with `make ui`; query the warehouse with duckdb (see README).")
    return code


def _start_ad_sandboxes(db: Path, sandbox_dir: Path, procs: list[subprocess.Popen]) -> dict[str, str]:
    """Serve the sandbox's Google Ads and Meta accounts (processes appended to ``procs``, for
    the caller to stop); returns the §8 variables pointing at them.

    Fresh random secrets per demo, passed to the emulators through their environment.
    """
    from emulators.truth import ads

    creds = {
        "developer_token": "sandbox-dev-" + secrets.token_hex(8),
        "client_id": "sandbox-client.apps.googleusercontent.com",
        "client_secret": "sandbox-secret-" + secrets.token_hex(8),
        "refresh_token": "1//sandbox-" + secrets.token_hex(12),
    }
    meta_token = "EAAsandbox" + secrets.token_hex(16)
    urls = {}
    for api, env in (
        ("google_ads", {f"SANDBOX_GOOGLE_ADS_{k.upper()}": v for k, v in creds.items()}),
        ("meta", {"SANDBOX_TOKEN": meta_token}),
    ):
        port_file = sandbox_dir / f"{api}.url"
        port_file.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "emulators", "serve", "--api", api, "--db", str(db)]
        procs.append(
            subprocess.Popen([*cmd, "--port", "0", "--port-file", str(port_file)], env={**os.environ, **env}, cwd=ROOT)
        )
        urls[api] = _wait_for_port_file(port_file, procs[-1])
        port_file.unlink(missing_ok=True)
    accounts = {p: ads.accounts(db, p) for p in (ads.GOOGLE, ads.META)}
    env = {
        "GOOGLE_ADS_DEVELOPER_TOKEN": creds["developer_token"],
        "GOOGLE_ADS_CLIENT_ID": creds["client_id"],
        "GOOGLE_ADS_CLIENT_SECRET": creds["client_secret"],
        "GOOGLE_ADS_REFRESH_TOKEN": creds["refresh_token"],
        "GOOGLE_ADS_CUSTOMER_IDS": ",".join(a["account_id"] for a in accounts[ads.GOOGLE]),
        "GOOGLE_ADS_LOGIN_CUSTOMER_ID": ads.MANAGER_ID,
        "GOOGLE_ADS_BASE_URL": urls["google_ads"],
        "GOOGLE_ADS_TOKEN_URL": urls["google_ads"] + "/token",
        "META_ACCESS_TOKEN": meta_token,
        "META_AD_ACCOUNT_IDS": ",".join("act_" + a["account_id"] for a in accounts[ads.META]),
        "META_BASE_URL": urls["meta"],
    }
    env.setdefault("ADS_START_DATE", os.environ.get("ADS_START_DATE") or "2025-01-01")
    return env
