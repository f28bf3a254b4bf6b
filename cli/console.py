"""What `make demo` shows on the terminal, and the log file that gets everything else.

`console_to_log(path)` points this process's stdout and stderr (the file descriptors, so the
sandbox server, the Dagster code server, the run worker and dbt inherit it) at a log file, and
hands back a `Console` that still writes to the terminal. The demo prints its steps and the
summary through the console (and into the log); Dagster's and dbt's hundreds of lines go only
to the log. `DemoProgress` turns the run's event log into one line per finished step.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO


class Console:
    """Writes to the terminal and, when given, the log file too."""

    def __init__(self, terminal: TextIO, log: TextIO | None = None) -> None:
        self.terminal = terminal
        self.log = log

    def say(self, text: str = "") -> None:
        for stream in (self.terminal, self.log):
            if stream is not None:
                stream.write(text + "\n")
                stream.flush()

    def step_printer(self, total: int) -> Callable[[int, str], None]:
        def step(n: int, text: str) -> None:
            self.say(f"\n[{n}/{total}] {text}")

        return step


@contextmanager
def console_to_log(path: Path) -> Iterator[Console]:
    """Send fd 1 and 2 (and everything that inherits them) to `path`; yield a terminal Console."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", encoding="utf-8", buffering=1)
    with open(path, "w", encoding="utf-8", buffering=1) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield Console(terminal, log)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()


class DemoProgress:
    """An `on_event` callback for `cli.launch.launch_job`: one line per finished step."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.materialized: dict[str, int] = {}
        self.checks: dict[str, list[int]] = {}

    def __call__(self, entry: Any) -> None:
        event = entry.dagster_event
        if event is None:
            return
        step = entry.step_key or ""
        kind = event.event_type.name
        if kind == "ASSET_MATERIALIZATION":
            self.materialized[step] = self.materialized.get(step, 0) + 1
        elif kind == "ASSET_CHECK_EVALUATION":
            counts = self.checks.setdefault(step, [0, 0])
            counts[0 if event.event_specific_data.passed else 1] += 1
        elif kind == "STEP_SUCCESS":
            seconds = (event.event_specific_data.duration_ms or 0) / 1000
            self.console.say(f"    ok    {step:<34} {seconds:6.1f}s  {self._figures(step)}")
        elif kind in ("RUN_SUCCESS", "RUN_FAILURE"):
            outcome = "succeeded" if kind == "RUN_SUCCESS" else "FAILED"
            self.console.say(f"    run {entry.run_id} {outcome} (in `make ui`: Jobs → refresh_all)")
        elif kind == "STEP_FAILURE":
            error = event.event_specific_data.error
            message = (error.message if error else "").strip().splitlines()
            self.console.say(f"    FAIL  {step:<34} {message[0] if message else ''}")

    def _figures(self, step: str) -> str:
        parts = []
        if self.materialized.get(step):
            parts.append(f"{self.materialized[step]} asset(s)")
        if step in self.checks:
            passed, failed = self.checks[step]
            parts.append(f"{passed} check(s) passed" + (f", {failed} failed" if failed else ""))
        return ", ".join(parts)
