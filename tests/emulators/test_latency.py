"""The HubSpot emulator's simulated round trip (``latency_ms`` / ``HUBSPOT_EMULATOR_LATENCY_MS``)."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from emulators import SandboxServer
from emulators.hubspot.server import LATENCY_ENV


def _timed_get(url: str) -> float:
    started = time.monotonic()
    resp = requests.get(f"{url}/crm/v3/pipelines/deals", headers={"Authorization": "Bearer t"}, timeout=10)
    assert resp.status_code == 200
    return time.monotonic() - started


def test_every_answer_waits_the_configured_latency(sandbox_db: Path) -> None:
    with SandboxServer(sandbox_db, token="t", latency_ms=120) as server:
        assert min(_timed_get(server.base_url) for _ in range(3)) >= 0.12


def test_latency_from_the_environment_and_off_by_default(sandbox_db: Path, monkeypatch) -> None:
    monkeypatch.setenv(LATENCY_ENV, "80")
    assert SandboxServer(sandbox_db).latency_s == 0.08
    monkeypatch.delenv(LATENCY_ENV)
    assert SandboxServer(sandbox_db).latency_s == 0.0
    assert SandboxServer(sandbox_db, latency_ms=0).latency_s == 0.0
