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


def stop_group(proc: subprocess.Popen, grace_s: float = GRACE_S) -> None:
    """SIGINT to the whole group, wait up to `grace_s`, then SIGKILL what is left."""
    pgid = proc.pid  # start_new_session: the group id is the leader's pid
    _signal_group(pgid, signal.SIGINT)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if proc.poll() is not None and not _group_alive(pgid):
            return
        time.sleep(0.2)
    _signal_group(pgid, signal.SIGKILL)
    proc.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-w", str(ROOT / "workspace.yaml"), *args]
    proc = subprocess.Popen(command, cwd=ROOT, start_new_session=True, preexec_fn=_restore_sigint)
    stopping = False

    def request_stop(signum: int, frame: object) -> None:  # noqa: ARG001
        nonlocal stopping
        if not stopping:
            stopping = True
            print(f"\nStopping the Dagster UI ({signal.Signals(signum).name})...", flush=True)
            stop_group(proc)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    code = proc.wait()
    if _group_alive(proc.pid):  # dagster dev died on its own: do not leave its children behind
        stop_group(proc, grace_s=5.0)
    return 0 if stopping else code


if __name__ == "__main__":
    sys.exit(main())
