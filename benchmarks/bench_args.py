"""Command-line pieces the benchmark tools share (``scale_bench``, ``engine_mirror``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.proc import REPO_ROOT

BENCH_DATA_DIR = REPO_ROOT / "data" / "bench"
"""Where the benchmarks cache the generator's sandboxes and write their work folders."""


def absolute_path(value: str) -> Path:
    """An argparse ``type``: the path made absolute against the current directory. dbt runs with
    cwd = dbt_project/, where a relative warehouse path would name another (empty) file."""
    return Path(value).resolve()


def tool_parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """A tool's parser: ``python -m <prog>``, described by its docstring's first paragraph."""
    return argparse.ArgumentParser(prog=f"python -m {prog}", description=(doc or "").split("\n\n")[0])


def add_sandbox_arguments(p: argparse.ArgumentParser, deals_help: str) -> None:
    """``--deals N``: the generator's sandbox of N deals (contacts = deals, ``scale_bench.sandbox_for``);
    ``--data-dir``: where it is cached (an absolute path)."""
    p.add_argument("--deals", type=int, help=deals_help)
    p.add_argument(
        "--data-dir",
        type=absolute_path,
        default=BENCH_DATA_DIR,
        help="where the sandboxes are cached and the work folders written (default data/bench)",
    )
