"""`make ui`: run `dagster dev` and stop everything it started on Ctrl-C or SIGTERM.

`dagster dev` starts a code server, the webserver and the daemon. Started from a
non-interactive shell it inherits SIGINT as ignored, and it maps SIGTERM onto SIGINT's handler,
so a SIGTERM to make's process group used to leave all of them running. This launcher starts
`dagster dev` in its own process group with SIGINT restored, and on SIGINT or SIGTERM asks that
group to shut down (SIGINT: dagster dev stops its children cleanly), then kills whatever is
left after a grace period. It exits with `dagster dev`'s code (0 after a requested stop).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.settings import ROOT

GRACE_S = 20.0


def _restore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc (Linux)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def wait_for_group(proc: subprocess.Popen, grace_s: float) -> None:
    """Wait until the leader and every process of its group are gone; SIGKILL after grace_s."""
    deadline = time.monotonic() + grace_s
    while proc.poll() is None or group_members(proc.pid):
        if time.monotonic() > deadline:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
            return
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    from orchestration.instance import prepare_dagster_home

    prepare_dagster_home()  # absolute DAGSTER_HOME with telemetry off, as every entry point
    args = argv if argv is not None else sys.argv[1:]
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-w", str(ROOT / "workspace.yaml"), *args]
    proc = subprocess.Popen(command, cwd=ROOT, start_new_session=True, preexec_fn=_restore_sigint)
    requested: list[str] = []

    def request_stop(signum: int, frame: object) -> None:  # noqa: ARG001
        # only signal here: waiting on the child inside a handler would deadlock Popen.wait
        if not requested:
            requested.append(signal.Signals(signum).name)
            print(f"\nStopping the Dagster UI ({requested[0]})...", flush=True)
        _signal_group(proc.pid, signal.SIGINT)  # the group of dagster dev: it and its children

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    while proc.poll() is None and not requested:
        time.sleep(0.2)
    # stopping, or dagster dev died on its own: leave none of its children behind
    wait_for_group(proc, GRACE_S if requested else 5.0)
    return 0 if requested else (proc.returncode or 0)


if __name__ == "__main__":
    sys.exit(main())
