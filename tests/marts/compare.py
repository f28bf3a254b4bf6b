"""Row-by-row comparison of a warehouse mart with the reference computation.

Rows are matched on the mart's key (``tests.reference.funnel.MART_KEYS``); only the contract's
columns are compared (the project may add columns). Counts and flags must be equal, fractional
figures agree to 1e-6, timestamps and dates exactly, strings exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.reference import marketing, pipeline
from tests.reference.funnel import MART_COLUMNS as FUNNEL_COLUMNS
from tests.reference.funnel import MART_KEYS as FUNNEL_KEYS

MART_COLUMNS = {**FUNNEL_COLUMNS, **marketing.MART_COLUMNS}
MART_KEYS = {**FUNNEL_KEYS, **marketing.MART_KEYS}

MART_COLUMNS = {**MART_COLUMNS, **pipeline.MART_COLUMNS}
MART_KEYS = {**MART_KEYS, **pipeline.MART_KEYS}

ABS_TOL = 1e-6
REL_TOL = 1e-9  # large sums (won_amount_reporting) still agree to ~1e-6 after this
COUNT_COLUMNS = frozenset(
    {
        "visit_number",
        "funnel_step_order",
        "max_funnel_step_order",
        "reopen_count",
        "regression_count",
        "skip_count",
        "new_leads",
        "entered_count",
        "advanced_count",
        "won_count",
        "lost_count",
        # pipeline over time (docs/metrics.md)
        "open_deal_count",
        "deals_missing_amount",
        "overdue_deal_count",
        "exits",
        "regressed_count",
        "open_at_period_end",
        "stuck_count",
    }
    | marketing.COUNT_COLUMNS
)
SHOW = 5


def normalize(value: Any) -> Any:
    """DuckDB values as the reference's types: Decimal -> float, aware timestamps -> naive UTC."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def same(column: str, got: Any, want: Any) -> bool:
    """Equality under the comparison's tolerance rules."""
    if got is None or want is None:
        return got is None and want is None
    if isinstance(want, bool) or isinstance(got, bool):
        return isinstance(got, bool) and isinstance(want, bool) and got == want
    if column in COUNT_COLUMNS:  # counts exact
        return got == want
    if isinstance(want, float) or isinstance(got, float):
        if not isinstance(got, int | float) or not isinstance(want, int | float):
            return False
        return math.isclose(float(got), float(want), rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(want, datetime) or isinstance(got, datetime):
        return isinstance(got, datetime) and isinstance(want, datetime) and got == want
    if isinstance(want, date) or isinstance(got, date):  # a datetime is not a date here
        return type(got) is type(want) and got == want
    return got == want


def read_mart(warehouse: Path, name: str) -> tuple[list[str], list[dict]]:
    """(columns, rows) of ``marts.<name>``, values normalized."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        cur = con.execute(f'select * from marts."{name}"')
        cols = [d[0] for d in cur.description]
        rows = [{c: normalize(v) for c, v in zip(cols, r, strict=True)} for r in cur.fetchall()]
    return cols, rows


@dataclass
class Diff:
    mart: str
    key_columns: tuple[str, ...] = ()
    missing_columns: list[str] = field(default_factory=list)
    duplicate_keys: list[tuple] = field(default_factory=list)
    only_reference: list[dict] = field(default_factory=list)
    only_warehouse: list[dict] = field(default_factory=list)
    differing: list[tuple[tuple, list[str], dict, dict]] = field(default_factory=list)
    compared: int = 0

    def __bool__(self) -> bool:
        return bool(
            self.missing_columns or self.duplicate_keys or self.only_reference or self.only_warehouse or self.differing
        )

    def report(self) -> str:
        """The first few mismatches, warehouse and reference side by side."""
        out = [
            f"marts.{self.mart} differs from the reference ({self.compared} rows matched by "
            f"key {self.key_columns or MART_KEYS[self.mart]}): {len(self.differing)} differing, "
            f"{len(self.only_reference)} missing from the warehouse, "
            f"{len(self.only_warehouse)} only in the warehouse"
        ]
        if self.missing_columns:
            out.append(f"  contract columns missing: {self.missing_columns}")
        if self.duplicate_keys:
            out.append(f"  duplicate keys in the warehouse: {self.duplicate_keys[:SHOW]}")
        for key, cols, got, want in self.differing[:SHOW]:
            out.append(f"  key {key}:")
            width = max(len(c) for c in cols)
            for c in cols:
                out.append(f"    {c:<{width}}  warehouse={_show(got[c]):<28}  reference={_show(want[c])}")
            out.append(f"    warehouse row: {_short(got)}")
            out.append(f"    reference row: {_short(want)}")
        for title, rows in (
            ("missing from the warehouse", self.only_reference),
            ("only in the warehouse", self.only_warehouse),
        ):
            for r in rows[:SHOW]:
                out.append(f"  {title}: {_short(r)}")
        return "\n".join(out)


def _show(value: Any) -> str:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else repr(value)


def _short(row: dict) -> str:
    return ", ".join(f"{k}={_show(v)}" for k, v in row.items())


def _key(row: dict, key_cols: tuple[str, ...]) -> tuple:
    return tuple(row[c] for c in key_cols)


def compare_rows(
    name: str,
    warehouse_rows: list[dict],
    reference_rows: list[dict],
    warehouse_columns: list[str] | None = None,
    *,
    columns: tuple[str, ...] | None = None,
    keys: tuple[str, ...] | None = None,
) -> Diff:
    """Match ``warehouse_rows`` to ``reference_rows`` by key and compare contract columns
    (or the given ``columns``, matched on ``keys``: for columns and tables beyond the contract)."""
    cols = columns or MART_COLUMNS[name]
    key_cols = keys or MART_KEYS[name]
    diff = Diff(name, key_columns=key_cols)
    present = (
        warehouse_columns
        if warehouse_columns is not None
        else (list(warehouse_rows[0]) if warehouse_rows else list(cols))
    )
    diff.missing_columns = [c for c in cols if c not in present]
    if diff.missing_columns:
        return diff
    got: dict[tuple, dict] = {}
    for r in warehouse_rows:
        k = _key(r, key_cols)
        if k in got:
            diff.duplicate_keys.append(k)
        got[k] = {c: r[c] for c in cols}
    want = {_key(r, key_cols): r for r in reference_rows}
    for k in sorted(want, key=repr):
        if k not in got:
            diff.only_reference.append(want[k])
            continue
        diff.compared += 1
        bad = [c for c in cols if not same(c, got[k][c], want[k][c])]
        if bad:
            diff.differing.append((k, bad, got[k], want[k]))
    diff.only_warehouse = [got[k] for k in sorted(got, key=repr) if k not in want]
    return diff
