"""CLI: build, info, and serve (port file, one stdout line without the token, SIGTERM)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emulators", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_build_info_serve(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite"
    out = json.loads(_run("build", "--out", str(db), "--deals", "40", "--contacts", "120", "--seed", "3").stdout)
    assert out["deals"] == 40 and out["contacts"] == 120
    info = json.loads(_run("info", "--db", str(db)).stdout)
    assert info["end_date"] == "2026-10-31" and info["deals"] == 40

    port_file = tmp_path / "port"
    secret = "cli-secret-token-123"
    env = {**os.environ, "SANDBOX_TOKEN": secret}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulators",
            "serve",
            "--db",
            str(db),
            "--port",
            "0",
            "--port-file",
            str(port_file),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 20
        while not port_file.exists() and time.time() < deadline:
            time.sleep(0.05)
        url = port_file.read_text().strip()
        assert url.startswith("http://127.0.0.1:")
        r = requests.get(
            f"{url}/crm/v3/objects/deals", params={"limit": 5}, headers={"Authorization": f"Bearer {secret}"}, timeout=5
        )
        assert r.status_code == 200 and len(r.json()["results"]) == 5
        assert requests.get(f"{url}/crm/v3/owners", timeout=5).status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr
    lines = stdout.strip().splitlines()
    assert len(lines) == 1 and url in lines[0]
    assert secret not in stdout and secret not in stderr


def test_serve_the_ad_apis(tmp_path: Path) -> None:
    db = tmp_path / "ads.sqlite"
    _run("build", "--out", str(db), "--deals", "40", "--contacts", "120", "--seed", "3")
    secret = "EAAclisecrettoken1234567"
    for api, probe in (
        ("meta", "/v25.0/act_101000000000001"),
        ("google_ads", "/v26/customers:listAccessibleCustomers"),
    ):
        port_file = tmp_path / f"{api}.port"
        proc = subprocess.Popen(
            [sys.executable, "-m", "emulators", "serve", "--api", api, "--db", str(db), "--port-file", str(port_file)],
            cwd=ROOT,
            env={**os.environ, "SANDBOX_TOKEN": secret},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.time() + 20
            while not port_file.exists() and time.time() < deadline:
                time.sleep(0.05)
            url = port_file.read_text().strip()
            if api == "meta":
                r = requests.get(url + probe, headers={"Authorization": f"Bearer {secret}"}, timeout=5)
                assert r.status_code == 200 and r.json()["currency"] == "USD"
            else:  # no OAuth access token: 401 as Google answers
                assert requests.get(url + probe, timeout=5).status_code == 401
        finally:
            proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=10)
        assert proc.returncode == 0, stderr
        assert secret not in stdout + stderr and url in stdout
