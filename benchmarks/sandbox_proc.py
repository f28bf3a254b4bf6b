"""The sandbox HubSpot API in its own process, so its CPU and memory stay apart from the sync.

Parent side: :class:`SandboxProcess` (a context manager) starts
``python -m benchmarks.sandbox_proc --db ...`` and talks to it over stdin/stdout, one JSON
line per answer:

* on start the child prints ``{"base_url": ...}``;
* ``stats`` -> ``SandboxServer.stats()`` plus the child's peak RSS and CPU seconds;
* ``stop`` (or EOF) -> the server stops and the child exits.

The stock ``python -m emulators serve`` cannot report its counters, hence this wrapper.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.proc import REPO_ROOT, child_env

TOKEN = "bench-token"


def _self_usage() -> dict[str, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"peak_rss_mib": ru.ru_maxrss / 1024, "cpu_s": ru.ru_utime + ru.ru_stime}


def _serve(args: argparse.Namespace) -> int:
    from emulators import SandboxServer

    server = SandboxServer(
        Path(args.db),
        token=TOKEN,
        rate_limit_per_10s=args.rate_limit_per_10s,
        search_rate_per_s=args.search_rate_per_s,
        latency_ms=args.latency_ms,
    )
    url = server.start()
    print(json.dumps({"base_url": url, **_self_usage()}), flush=True)
    try:
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "stats":
                stats = server.stats()
                stats.pop("by_path", None)
                print(json.dumps({**stats, **_self_usage()}), flush=True)
            elif cmd == "stop":
                break
    finally:
        server.stop()
    return 0


class SandboxProcess:
    """``with SandboxProcess(db, rate_limit_per_10s=None, ...) as srv: srv.base_url``."""

    def __init__(
        self,
        db: Path,
        *,
        rate_limit_per_10s: int | None = None,
        search_rate_per_s: int | None = None,
        latency_ms: float = 0.0,
    ) -> None:
        cmd = [sys.executable, "-m", "benchmarks.sandbox_proc", "--db", str(db), "--latency-ms", str(latency_ms)]
        if rate_limit_per_10s is not None:
            cmd += ["--rate-limit-per-10s", str(rate_limit_per_10s)]
        if search_rate_per_s is not None:
            cmd += ["--search-rate-per-s", str(search_rate_per_s)]
        self._cmd = cmd
        self._proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.token = TOKEN

    def __enter__(self) -> SandboxProcess:
        self._proc = subprocess.Popen(
            self._cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
            env=child_env(),
        )
        hello = self._read()
        self.base_url = hello["base_url"]
        return self

    def _read(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"sandbox process exited (code {self._proc.poll()})")
        return json.loads(line)

    def stats(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write("stats\n")
        self._proc.stdin.flush()
        return self._read()

    def __exit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.write("stop\n")
                proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self._proc = None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.sandbox_proc")
    p.add_argument("--db", required=True)
    p.add_argument("--rate-limit-per-10s", type=int)
    p.add_argument("--search-rate-per-s", type=int)
    p.add_argument("--latency-ms", type=float, default=0.0)
    return _serve(p.parse_args(argv))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
