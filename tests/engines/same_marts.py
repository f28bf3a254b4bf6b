"""A minimal mart comparison for the engine tests: same tables, same columns, same rows (sorted),
counts and text exact, floats within 1e-9 relative, timestamps to the microsecond in UTC."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import duckdb

from tests.engines.mirror import IGNORED_COLUMNS

REL_TOL = 1e-9


def _norm(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _key(row: tuple) -> tuple:
    return tuple(
        (0, "") if v is None else (1, f"{v:.9g}") if isinstance(v, float) else (1, str(v)) for v in map(_norm, row)
    )


def _same(a: Any, b: Any) -> bool:
    a, b = _norm(a), _norm(b)
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=1e-12)
    return a == b


def table_rows(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> tuple[list[str], list[tuple]]:
    cur = con.execute(f'select * from "{schema}"."{table}"')
    names = [d[0] for d in cur.description]
    return names, sorted(cur.fetchall(), key=_key)


def differences(
    expected: duckdb.DuckDBPyConnection,
    actual: duckdb.DuckDBPyConnection,
    schema: str,
    also_ignored: dict[str, frozenset[str]] | None = None,
) -> list[str]:
    """What differs between ``schema`` in two DuckDB connections (empty list: identical).
    ``also_ignored``: more columns per table to leave out (e.g. load times of two separate syncs)."""
    sql = "select table_name from information_schema.tables where table_schema = ? order by 1"
    want = [r[0] for r in expected.execute(sql, [schema]).fetchall()]
    have = [r[0] for r in actual.execute(sql, [schema]).fetchall()]
    out = [f"tables differ: {sorted(set(want) ^ set(have))}"] if want != have else []
    for table in sorted(set(want) & set(have)):
        cols_a, rows_a = table_rows(expected, schema, table)
        cols_b, rows_b = table_rows(actual, schema, table)
        if cols_a != cols_b:
            out.append(f"{table}: columns {cols_a} != {cols_b}")
            continue
        if len(rows_a) != len(rows_b):
            out.append(f"{table}: {len(rows_a)} rows != {len(rows_b)}")
            continue
        ignored = IGNORED_COLUMNS.get(table, frozenset()) | (also_ignored or {}).get(table, frozenset())
        if ignored:  # columns that differ by design between two builds (tests/engines/mirror.py)
            keep = [i for i, c in enumerate(cols_a) if c not in ignored]
            rows_a = sorted((tuple(r[i] for i in keep) for r in rows_a), key=_key)
            rows_b = sorted((tuple(r[i] for i in keep) for r in rows_b), key=_key)
        for ra, rb in zip(rows_a, rows_b, strict=True):
            if not all(_same(x, y) for x, y in zip(ra, rb, strict=True)):
                out.append(f"{table}: first differing row {ra} != {rb}")
                break
    return out
