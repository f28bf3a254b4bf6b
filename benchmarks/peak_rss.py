"""Peak RSS of a child process, measured from the child's own memory map.

``ru_maxrss`` of a child on Linux is at least the parent's RSS when it forked (exec keeps the
high-water mark), so a dbt process started by a bench that holds 2 GB reports 2 GB. The kernel's
``VmHWM`` (``/proc/<pid>/status``) belongs to the memory map exec created: the child's own peak.
It is polled until the child exits (the mark only rises; the last reading is at most one poll
interval before the end)."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path


def vm_hwm_mib(pid: int) -> float | None:
    """The process's peak resident set (MiB), or None once it has exited."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def wait_with_peak_rss(pid: int, interval_s: float = 0.2) -> tuple[int, resource.struct_rusage, float]:
    """Wait for child ``pid``: (wait status, its rusage, its own peak RSS in MiB)."""
    peak = 0.0
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage, peak
        hwm = vm_hwm_mib(pid)
        if hwm is not None:
            peak = max(peak, hwm)
        time.sleep(interval_s)
