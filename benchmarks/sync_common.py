"""Shared pieces of the sync benchmark: its sizes, console output, sandbox cache, worker runs,
small statistics and the machine facts printed with the figures."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from tabulate import tabulate

from benchmarks.proc import REPO_ROOT, child_env

STREAMS = ("owners", "pipelines", "contacts", "deals")
DEFAULT_DEALS = 100_000
QUICK_DEALS = 10_000
RATE_DEALS = 10_000
QUICK_RATE_DEALS = 2_000
SERVER_PER_10S = 100  # HubSpot's ten-secondly ceiling (the lowest tier)
SERVER_SEARCH_PER_S = 5
BIG_BACKFILL = 50_000  # at or above this many deals the backfill runs once unless --repeat


def say(message: str) -> None:
    print(message, flush=True)


def step(n: int, total: int, message: str) -> None:
    say(f"\n[{n}/{total}] {message}")


def default_contacts(deals: int) -> int:
    """Contacts for ``deals`` at the generator's default ratio (2,000 contacts : 600 deals)."""
    from emulators import SandboxConfig

    base = SandboxConfig()
    return round(deals * base.n_contacts / base.n_deals)


def sandbox_path(data_dir: Path, deals: int, contacts: int) -> tuple[Path, Any]:
    from emulators import SandboxConfig

    cfg = SandboxConfig(n_deals=deals, n_contacts=contacts)
    name = f"sandbox_{deals}d_{contacts}c_seed{cfg.seed}_{cfg.months}m.sqlite"
    return data_dir / name, cfg


def ensure_sandbox(data_dir: Path, deals: int, contacts: int) -> tuple[Path, float | None]:
    """Build the sandbox (or reuse the cached one); returns (path, build seconds or None)."""
    from emulators.truth import store

    path, cfg = sandbox_path(data_dir, deals, contacts)
    if path.exists() and store.read_config_json(path) == cfg.to_json():
        say(f"    reusing {rel(path)}")
        return path, None
    say(f"    building {rel(path)} ({deals:,} deals, {contacts:,} contacts) ...")
    t0 = time.monotonic()
    # In a child process: the build's memory must not count towards this process.
    code = (
        "import sys; from pathlib import Path; from emulators import SandboxConfig, build_sandbox; "
        f"build_sandbox(SandboxConfig(n_deals={deals}, n_contacts={contacts}), Path(sys.argv[1]))"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=REPO_ROOT, env=child_env())
    seconds = time.monotonic() - t0
    say(f"    built in {seconds:.1f} s")
    return path, seconds


def rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def sync_now(db: Path) -> str:
    """`now` for the syncs: the wall clock, but never before the sandbox's last day."""
    from emulators import end_date_of

    end = datetime.combine(end_date_of(db) + timedelta(days=1), datetime.min.time(), UTC)
    return max(datetime.now(UTC), end).isoformat()


def run_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one sync in a fresh process (progress on our stderr); return its measurements."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.sync_worker", json.dumps(spec)],
        cwd=REPO_ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"sync worker failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rate(n: float, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("nan")


def fmt_s(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds:,.0f} s ({seconds / 60:.1f} min)"
    return f"{seconds:,.1f} s"


def table(headers: list[str], rows: list[list[Any]], indent: str = "    ") -> str:
    """First column left-aligned, the others right-aligned, under a dashed rule."""
    align = ("left",) + ("right",) * (len(headers) - 1)
    text = tabulate(
        [[str(c) for c in r] for r in rows], headers, tablefmt="simple", colalign=align, disable_numparse=True
    )
    return "\n".join(indent + line.rstrip() for line in text.splitlines())


def peak_in_window(times: list[float], window: float) -> int:
    """Most events in any half-open rolling window of ``window`` seconds."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def machine_facts() -> dict[str, str]:
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    facts = {
        "cpu cores (os.cpu_count)": str(os.cpu_count()),
        "usable cores (affinity)": str(len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else "?",
        "memory": mem or "?",
        "load average (1/5/15 min)": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    for pkg in ("duckdb", "pyarrow", "requests"):
        try:
            facts[pkg] = version(pkg)
        except Exception:
            facts[pkg] = "?"
    return facts
