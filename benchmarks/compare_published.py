"""Compare two sets of Parquet tables (e.g. the published marts before and after a refactor).

    python -m benchmarks.compare_published BEFORE_DIR AFTER_DIR

Each ``*.parquet`` of BEFORE_DIR must exist in AFTER_DIR with the same columns (names and
types) and the same rows: rows are sorted on every column first, floats compared within a
relative 1e-9 (DuckDB sums in parallel, so the last bits of a float aggregate vary run to
run), everything else exactly. Exit 0 when all match, 1 with one line per difference.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import duckdb

REL_TOL = 1e-9


def _rows(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[list[tuple[str, str]], list[tuple]]:
    rel = con.read_parquet(str(path))
    columns = list(zip(rel.columns, [str(t) for t in rel.types], strict=True))
    order = ", ".join(f'"{c}" nulls first' for c, _ in columns)
    return columns, rel.order(order).fetchall()


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)
    return a == b


def compare_tables(before: Path, after: Path) -> list[str]:
    """Differences between two Parquet files (empty list: identical up to float noise)."""
    con = duckdb.connect()
    cols_a, rows_a = _rows(con, before)
    cols_b, rows_b = _rows(con, after)
    name = before.stem
    if cols_a != cols_b:
        return [f"{name}: columns differ: {cols_a} vs {cols_b}"]
    if len(rows_a) != len(rows_b):
        return [f"{name}: {len(rows_a)} rows before, {len(rows_b)} after"]
    diffs = []
    for i, (ra, rb) in enumerate(zip(rows_a, rows_b, strict=True)):
        bad = [c for (c, _), a, b in zip(cols_a, ra, rb, strict=True) if not _same(a, b)]
        if bad:
            diffs.append(f"{name}: row {i} differs in {bad}: {ra} vs {rb}")
            if len(diffs) >= 5:
                break
    return diffs


def compare_dirs(before: Path, after: Path) -> list[str]:
    diffs = []
    files = sorted(before.glob("*.parquet"))
    if not files:
        return [f"no Parquet files in {before}"]
    for path in files:
        other = after / path.name
        if not other.exists():
            diffs.append(f"{path.name}: missing in {after}")
            continue
        diffs += compare_tables(path, other)
    return diffs


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    before, after = Path(argv[0]), Path(argv[1])
    diffs = compare_dirs(before, after)
    for line in diffs:
        print(line)
    n = len(list(before.glob("*.parquet")))
    print(f"{n} tables compared: {'all identical' if not diffs else f'{len(diffs)} difference(s)'}")
    return 0 if not diffs else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
