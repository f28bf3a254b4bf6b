"""tests/engines/compare.py: two engines' copies of a table agree up to row order, float noise
(1e-9 relative), type spelling and time zone, and nothing else."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from tests.engines.compare import compare_schemas, compare_tables

COLS = ["deal_id", "amount", "closed_on", "closed_at", "is_won", "visits"]
ROW_A = ("a", 0.1 + 0.2, date(2025, 1, 31), datetime(2025, 1, 31, 23, 59, 59, 999999), True, 3)
ROW_B = ("b", None, None, None, False, 0)


def test_same_rows_in_another_order_with_float_noise_decimal_and_aware_timestamps_agree() -> None:
    ny = timezone(timedelta(hours=-5))
    other_a = ("a", Decimal("0.3"), date(2025, 1, 31), datetime(2025, 1, 31, 18, 59, 59, 999999, tzinfo=ny), True, 3)
    diff = compare_tables("t", (COLS, [ROW_A, ROW_B]), (COLS, [ROW_B, other_a]))
    assert not diff, diff.report()
    assert diff.rows_compared == 2


def test_each_kind_of_difference_is_reported() -> None:
    def differs(row: tuple) -> list[str]:
        return compare_tables("t", (COLS, [ROW_A]), (COLS, [row])).problems

    assert differs(("a", 0.3 * (1 + 1e-8), *ROW_A[2:]))  # beyond 1e-9 relative
    assert differs((*ROW_A[:3], ROW_A[3] - timedelta(microseconds=1), *ROW_A[4:]))  # one microsecond
    assert differs((*ROW_A[:3], ROW_A[3].replace(tzinfo=UTC) + timedelta(hours=1), *ROW_A[4:]))
    assert differs((*ROW_A[:4], False, 3))  # a flag
    assert differs((*ROW_A[:5], 4))  # a count
    assert differs((*ROW_A[:5], 3.0000001))  # a count that is a float elsewhere
    assert differs((*ROW_A[:2], "2025-01-31", *ROW_A[3:]))  # a date that became text
    assert compare_tables("t", (COLS, [ROW_A, ROW_B]), (COLS, [ROW_A])).problems  # a row missing
    assert compare_tables("t", (COLS, [ROW_A]), (COLS[:-1], [ROW_A[:-1]])).problems  # a column missing


def test_column_order_is_a_note_and_ignored_columns_are_left_out() -> None:
    reordered = [*COLS[1:], COLS[0]]
    moved = (*ROW_A[1:], ROW_A[0])
    diff = compare_tables("t", (COLS, [ROW_A]), (reordered, [moved]))
    assert not diff and diff.notes
    changed = (*ROW_A[:5], 99)
    assert compare_tables("t", (COLS, [ROW_A]), (COLS, [changed]))
    assert not compare_tables("t", (COLS, [ROW_A]), (COLS, [changed]), ignore=frozenset({"visits"}))


def test_a_table_missing_on_one_engine_is_a_difference() -> None:
    diffs = compare_schemas({"x": (COLS, [ROW_A]), "y": (COLS, [])}, {"x": (COLS, [ROW_A])}, right_name="spark")
    assert [bool(d) for d in diffs] == [False, True]
    assert "missing on spark" in diffs[1].report()
