"""The demo's emulated APIs: one `python -m emulators serve` process per API, all over the same
sandbox file, each with fresh random credentials. Returns the environment variables (README's
configuration table) that point the sources at them."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.settings import ROOT


@dataclass
class Sandboxes:
    """The running emulator processes, their URLs and the variables that point at them."""

    procs: list[subprocess.Popen] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def wait_for_port_file(path: Path, proc: subprocess.Popen, log_hint: str, timeout_s: float = 600) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        if proc.poll() is not None:
            raise RuntimeError(f"the sandbox exited early with code {proc.returncode}; see {log_hint}")
        time.sleep(0.2)
    raise RuntimeError("the sandbox did not start listening in time")


def _serve(
    db: Path, sandbox_dir: Path, api: str, args: list[str], env: dict[str, str], out: Sandboxes, log: str
) -> str:
    port_file = sandbox_dir / f"{api}.url"
    port_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "emulators", "serve", "--api", api, "--db", str(db), *args]
    proc = subprocess.Popen([*cmd, "--port", "0", "--port-file", str(port_file)], env={**os.environ, **env}, cwd=ROOT)
    out.procs.append(proc)
    url = wait_for_port_file(port_file, proc, log)
    port_file.unlink(missing_ok=True)
    out.urls[api] = url
    return url


def start_sandboxes(db: Path, sandbox_dir: Path, log_hint: str) -> Sandboxes:
    """Serve HubSpot, Pipedrive, Google Ads and Meta over ``db``; the caller stops them."""
    from emulators.truth import ads

    out = Sandboxes()
    try:
        hubspot_token = "sandbox-" + secrets.token_hex(16)
        url = _serve(
            db,
            sandbox_dir,
            "hubspot",
            ["--rate-limit-per-10s", "100", "--search-rate-per-s", "5"],
            {"SANDBOX_TOKEN": hubspot_token},
            out,
            log_hint,
        )
        out.env.update({"HUBSPOT_BASE_URL": url, "HUBSPOT_ACCESS_TOKEN": hubspot_token})

        pipedrive_token = "sandbox-" + secrets.token_hex(16)
        url = _serve(
            db,
            sandbox_dir,
            "pipedrive",
            ["--rate-limit-per-2s", "80"],
            {"SANDBOX_TOKEN": pipedrive_token},
            out,
            log_hint,
        )
        out.env.update({"PIPEDRIVE_BASE_URL": url, "PIPEDRIVE_API_TOKEN": pipedrive_token})

        creds = {
            "developer_token": "sandbox-dev-" + secrets.token_hex(8),
            "client_id": "sandbox-client.apps.googleusercontent.com",
            "client_secret": "sandbox-secret-" + secrets.token_hex(8),
            "refresh_token": "1//sandbox-" + secrets.token_hex(12),
        }
        url = _serve(
            db,
            sandbox_dir,
            "google_ads",
            [],
            {f"SANDBOX_GOOGLE_ADS_{k.upper()}": v for k, v in creds.items()},
            out,
            log_hint,
        )
        google = ads.accounts(db, ads.GOOGLE)
        out.env.update(
            {
                "GOOGLE_ADS_DEVELOPER_TOKEN": creds["developer_token"],
                "GOOGLE_ADS_CLIENT_ID": creds["client_id"],
                "GOOGLE_ADS_CLIENT_SECRET": creds["client_secret"],
                "GOOGLE_ADS_REFRESH_TOKEN": creds["refresh_token"],
                "GOOGLE_ADS_CUSTOMER_IDS": ",".join(a["account_id"] for a in google),
                "GOOGLE_ADS_LOGIN_CUSTOMER_ID": ads.MANAGER_ID,
                "GOOGLE_ADS_BASE_URL": url,
                "GOOGLE_ADS_TOKEN_URL": url + "/token",
            }
        )

        meta_token = "EAAsandbox" + secrets.token_hex(16)
        url = _serve(db, sandbox_dir, "meta", [], {"SANDBOX_TOKEN": meta_token}, out, log_hint)
        meta = ads.accounts(db, ads.META)
        out.env.update(
            {
                "META_ACCESS_TOKEN": meta_token,
                "META_AD_ACCOUNT_IDS": ",".join("act_" + a["account_id"] for a in meta),
                "META_BASE_URL": url,
            }
        )
        out.env["ADS_START_DATE"] = os.environ.get("ADS_START_DATE") or "2025-01-01"
    except BaseException:
        out.stop()
        raise
    return out
