"""`make ui` (cli/ui.py): the UI serves the code location with the schedule off, and a SIGTERM
to its process group stops every process it started (dagster dev, code server, webserver,
daemon), even when started with SIGINT ignored, as a background job of a script is."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> set[int]:
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_ui_serves_the_schedule_off_and_sigterm_to_its_group_stops_everything(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "PIPEDRIVE_"))}
    env.update(
        {"DAGSTER_HOME": str(tmp_path / "home"), "WAREHOUSE_PATH": str(tmp_path / "w.duckdb"), "PYTHONPATH": str(ROOT)}
    )
    log = open(tmp_path / "ui.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.ui", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5).read()
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "ui.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the UI did not come up in 240 s"
                time.sleep(1)
        answer = _graphql(
            port,
            '{ schedulesOrError(repositorySelector: {repositoryName: "__repository__", '
            'repositoryLocationName: "orchestration.definitions"}) '
            "{ ... on Schedules { results { name scheduleState { status } } } } }",
        )
        states = {s["name"]: s["scheduleState"]["status"] for s in answer["data"]["schedulesOrError"]["results"]}
        assert states == {"daily_refresh": "STOPPED"}
        started = _descendants(proc.pid)
        assert len(started) >= 3, f"expected dagster dev, webserver and daemon, found {started}"
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        deadline = time.monotonic() + 30
        while any(_alive(p) for p in started) and time.monotonic() < deadline:
            time.sleep(0.5)
        survivors = [p for p in started if _alive(p)]
        assert not survivors, f"still running after SIGTERM: {survivors}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in _descendants(proc.pid):
            os.kill(pid, signal.SIGKILL)
        log.close()
