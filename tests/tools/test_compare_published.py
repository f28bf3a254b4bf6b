"""benchmarks/compare_published.py: the before/after comparison of the published marts tolerates
float noise from parallel sums and nothing else."""

from __future__ import annotations

from pathlib import Path

import duckdb

from benchmarks.compare_published import compare_dirs


def _write(path: Path, rows: list[tuple[int, str, float | None]]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("create table t (id integer, name varchar, amount double)")
    con.executemany("insert into t values (?, ?, ?)", rows)
    con.execute(f"copy t to '{path / 'mart.parquet'}' (format parquet)")


def test_same_rows_in_another_order_with_float_noise_are_identical(tmp_path: Path) -> None:
    _write(tmp_path / "a", [(1, "x", 0.1 + 0.2), (2, "y", None)])
    _write(tmp_path / "b", [(2, "y", None), (1, "x", 0.3)])
    assert compare_dirs(tmp_path / "a", tmp_path / "b") == []


def test_a_changed_value_a_missing_row_and_a_missing_table_are_reported(tmp_path: Path) -> None:
    _write(tmp_path / "a", [(1, "x", 1.0), (2, "y", 2.0)])
    _write(tmp_path / "b", [(1, "x", 1.0), (2, "y", 2.000001)])
    assert any("amount" in d for d in compare_dirs(tmp_path / "a", tmp_path / "b"))
    _write(tmp_path / "c", [(1, "x", 1.0)])
    assert any("2 rows before, 1 after" in d for d in compare_dirs(tmp_path / "a", tmp_path / "c"))
    assert any("missing" in d for d in compare_dirs(tmp_path / "a", tmp_path / "empty"))
