"""Compare the same table built by two warehouse engines (DuckDB, PostgreSQL, Spark).

The engines agree when (docs/decisions.md "One set of models on every engine"):
- the column names are the same (a different order is a note, not a difference: Spark puts
  partition columns last) and each column has the same kind
  (integer, float, decimal-as-float, text, boolean, date, timestamp): engines spell types
  differently (``int4`` / ``INTEGER`` / ``int``), so only the kind is compared;
- the row counts are equal and, with rows sorted on every column, each row matches: counts,
  text, booleans and dates exactly, floats within 1e-9 relative, timestamps to the microsecond
  (aware timestamps are converted to naive UTC first).

Rows are plain tuples: ``connection_differences`` reads two DuckDB connections (a warehouse file,
an engine's tables copied by ``warehouse.engines.analytics_connection``, published Parquet);
``benchmarks/engine_mirror.py`` reads PostgreSQL and Spark directly. The columns that differ by
design between two builds are listed once, in :data:`IGNORED_COLUMNS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb

REL_TOL = 1e-9
ABS_TOL = 1e-12  # a float that is 0 on one engine and 1e-17 on another is the same figure
SHOW = 5

# Columns that differ by design between two builds.
IGNORED_COLUMNS = {
    "mart_build_info": frozenset({"built_at"}),
    # a change detector of the incremental build: each engine hashes its own text forms
    "fct_pipeline_snapshot_daily": frozenset({"deal_inputs_hash"}),
}

_KIND_ORDER = {"null": 0, "bool": 1, "int": 2, "float": 2, "str": 3, "date": 4, "timestamp": 5, "other": 6}


def normalize(value: Any) -> Any:
    """One Python representation per value: Decimal -> float, aware datetime -> naive UTC."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if type(value).__module__ == "numpy":  # numpy scalars from pandas-based readers
        return normalize(value.item())
    return value


def kind(value: Any) -> str:
    """The comparison kind of a normalized value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, date):
        return "date"
    return "other"


def same_value(a: Any, b: Any) -> bool:
    """Equality under the tolerances above (a and b normalized)."""
    if a is None or b is None:
        return a is None and b is None
    ka, kb = kind(a), kind(b)
    if "float" in (ka, kb) and {ka, kb} <= {"int", "float"}:
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return math.isclose(fa, fb, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return ka == kb and a == b


def _sort_key(row: tuple) -> tuple:
    """Sort on every column, nulls first; floats rounded to 9 significant digits so two
    engines' last-bit noise does not reorder rows that tie on every other column."""
    out = []
    for v in row:
        k = kind(v)
        if k == "float":
            v = float(f"{v:.9g}") if math.isfinite(v) else repr(v)
        elif k == "other":
            v = repr(v)
        out.append((_KIND_ORDER[k], v if k != "null" else 0))
    return tuple(out)


@dataclass
class TableDiff:
    """What differs between the same table on two engines; falsy when they agree."""

    table: str
    left: str
    right: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows_compared: int = 0

    def __bool__(self) -> bool:
        return bool(self.problems)

    def report(self) -> str:
        head = f"{self.table}: {self.left} vs {self.right}"
        if not self.problems:
            note = f" [{'; '.join(self.notes)}]" if self.notes else ""
            return f"{head}: identical ({self.rows_compared} rows){note}"
        return "\n".join([f"{head}: {len(self.problems)} problem(s)"] + [f"  {p}" for p in self.problems[:SHOW]])


def column_kinds(rows: list[tuple], n_columns: int) -> list[set[str]]:
    """The kinds seen in each column (nulls left out; int and float both count as numbers)."""
    kinds: list[set[str]] = [set() for _ in range(n_columns)]
    for row in rows:
        for i, v in enumerate(row):
            k = kind(v)
            if k != "null":
                kinds[i].add("number" if k in ("int", "float") else k)
    return kinds


def compare_tables(
    table: str,
    left: tuple[list[str], list[tuple]],
    right: tuple[list[str], list[tuple]],
    *,
    left_name: str = "duckdb",
    right_name: str = "other",
    ignore: frozenset[str] = frozenset(),
) -> TableDiff:
    """Compare ``(columns, rows)`` of one table from two engines, leaving out the columns in
    ``ignore`` (e.g. a build timestamp)."""
    diff = TableDiff(table, left_name, right_name)
    lower_l, lower_r = [c.lower() for c in left[0]], [c.lower() for c in right[0]]
    if sorted(lower_l) != sorted(lower_r):
        diff.problems.append(f"columns differ: {left[0]} vs {right[0]}")
        return diff
    if lower_l != lower_r:
        diff.notes.append(f"column order on {right_name}: {right[0]}")
    keep = [c for c in lower_l if c not in ignore]
    pick_l = [lower_l.index(c) for c in keep]
    pick_r = [lower_r.index(c) for c in keep]
    cols_l = [left[0][i] for i in pick_l]
    rows_l = [tuple(normalize(r[i]) for i in pick_l) for r in left[1]]
    rows_r = [tuple(normalize(r[i]) for i in pick_r) for r in right[1]]
    kinds_l, kinds_r = column_kinds(rows_l, len(cols_l)), column_kinds(rows_r, len(cols_l))
    for c, kl, kr in zip(cols_l, kinds_l, kinds_r, strict=True):
        if kl and kr and kl != kr:
            diff.problems.append(f"column {c}: {sorted(kl)} on {left_name}, {sorted(kr)} on {right_name}")
    if len(rows_l) != len(rows_r):
        diff.problems.append(f"{len(rows_l)} rows on {left_name}, {len(rows_r)} on {right_name}")
        return diff
    rows_l.sort(key=_sort_key)
    rows_r.sort(key=_sort_key)
    for i, (a, b) in enumerate(zip(rows_l, rows_r, strict=True)):
        bad = [c for c, va, vb in zip(cols_l, a, b, strict=True) if not same_value(va, vb)]
        if bad:
            shown = ", ".join(f"{c}: {a[cols_l.index(c)]!r} vs {b[cols_l.index(c)]!r}" for c in bad[:4])
            diff.problems.append(f"row {i} differs in {bad}: {shown}")
    diff.rows_compared = len(rows_l)
    return diff


def compare_schemas(
    left: dict[str, tuple[list[str], list[tuple]]],
    right: dict[str, tuple[list[str], list[tuple]]],
    *,
    left_name: str = "duckdb",
    right_name: str = "other",
    ignore: dict[str, frozenset[str]] | None = None,
) -> list[TableDiff]:
    """Compare every table of ``left`` (name -> (columns, rows)) with ``right``; a table missing
    on either side is a problem; ``ignore`` maps a table to columns left out. Returns one
    TableDiff per table, in name order."""
    out = []
    for name in sorted(set(left) | set(right)):
        if name not in right or name not in left:
            d = TableDiff(name, left_name, right_name)
            d.problems.append(f"missing on {right_name if name not in right else left_name}")
            out.append(d)
            continue
        skip = (ignore or {}).get(name, frozenset())
        out.append(
            compare_tables(name, left[name], right[name], left_name=left_name, right_name=right_name, ignore=skip)
        )
    return out


def connection_tables(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table of ``schema`` in a DuckDB connection: name -> (columns, rows)."""
    sql = "select table_name from information_schema.tables where table_schema = ? order by 1"
    out = {}
    for (name,) in con.execute(sql, [schema]).fetchall():
        cur = con.execute(f'select * from "{schema}"."{name}"')
        out[name] = ([d[0] for d in cur.description], cur.fetchall())
    return out


def connection_differences(
    expected: duckdb.DuckDBPyConnection,
    actual: duckdb.DuckDBPyConnection,
    schema: str,
    ignore: dict[str, frozenset[str]] | None = None,
) -> list[str]:
    """The reports of the tables of ``schema`` that differ between two DuckDB connections (empty
    list: identical); ``ignore`` maps a table to columns left out."""
    diffs = compare_schemas(
        connection_tables(expected, schema),
        connection_tables(actual, schema),
        left_name="expected",
        right_name="actual",
        ignore=ignore,
    )
    return [d.report() for d in diffs if d]


def merge_ignored(*maps: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """The union, per table, of several ``ignore`` maps."""
    out: dict[str, frozenset[str]] = {}
    for m in maps:
        for table, columns in m.items():
            out[table] = out.get(table, frozenset()) | columns
    return out
