"""The benchmark tools' shared arguments: path arguments come out absolute (dbt runs with cwd =
dbt_project/, where a relative path names another file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_args import BENCH_DATA_DIR, absolute_path, add_sandbox_arguments, tool_parser


def test_relative_paths_resolve_against_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    p = tool_parser("benchmarks.example", "First paragraph\nof the doc.\n\nDetails.")
    add_sandbox_arguments(p, "sandbox size")
    p.add_argument("--warehouse", type=absolute_path)
    a = p.parse_args(["--deals", "2000", "--data-dir", "bench", "--warehouse", "../raw.duckdb"])
    assert (a.deals, a.data_dir, a.warehouse) == (2000, tmp_path / "bench", tmp_path.parent / "raw.duckdb")
    assert p.description == "First paragraph\nof the doc." and p.prog == "python -m benchmarks.example"
    assert p.parse_args([]).data_dir == BENCH_DATA_DIR and BENCH_DATA_DIR.is_absolute()
