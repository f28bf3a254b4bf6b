"""Fast self-check of the mart comparison: it passes on a faithful copy and names what differs."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.marts.compare import compare_rows, read_mart
from tests.reference.funnel import MART_COLUMNS
from tests.reference.test_funnel_rules import contact, deal, run

DUCK_TYPES = {bool: "BOOLEAN", int: "BIGINT", float: "DOUBLE", str: "VARCHAR", datetime: "TIMESTAMP", date: "DATE"}


def _marts() -> dict[str, list[dict]]:
    return run(
        [
            deal(
                "1",
                [
                    ("appointmentscheduled", "2026-01-05 00:00"),
                    ("presentationscheduled", "2026-01-08 00:00"),
                    ("closedwon", "2026-02-04 12:00:00.123"),
                ],
                amount="1234.5",
            ),
            deal("2", [("appointmentscheduled", "2026-03-10 12:00")]),
        ],
        [contact("9", "2026-01-01 00:00"), contact("10", "2026-01-01 00:00", None)],
        [("1", "10"), ("1", "9")],
    )


def _write(path, marts: dict[str, list[dict]]) -> None:
    """A DuckDB file with a ``marts`` schema holding ``marts``, typed from the values."""
    duckdb = pytest.importorskip("duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        for name, rows in marts.items():
            cols = MART_COLUMNS[name]
            types = {c: next((DUCK_TYPES[type(r[c])] for r in rows if r[c] is not None), "VARCHAR") for c in cols}
            if name == "fct_deals":
                types["amount"] = types["amount_reporting"] = "DECIMAL(18,2)"
            con.execute(f"create table marts.{name} (" + ", ".join(f"{c} {types[c]}" for c in cols) + ")")
            con.executemany(
                f"insert into marts.{name} values ({', '.join('?' * len(cols))})", [[r[c] for c in cols] for r in rows]
            )


def test_a_faithful_copy_matches(tmp_path):
    marts = _marts()
    _write(tmp_path / "w.duckdb", marts)
    for name in MART_COLUMNS:
        cols, rows = read_mart(tmp_path / "w.duckdb", name)
        assert rows, name
        diff = compare_rows(name, rows, marts[name], cols)
        assert not diff, diff.report()


def test_differences_are_reported_side_by_side():
    ref = _marts()["fct_deals"]
    wh = [dict(r) for r in ref]
    wh[0]["closed_at"] = wh[0]["closed_at"] - timedelta(milliseconds=1)
    wh[0]["amount_reporting"] = 1234.51
    wh[1]["primary_contact_id"] = "10"
    diff = compare_rows("fct_deals", [*wh, {**wh[1], "deal_id": "hubspot:3"}], ref)
    assert [d[1] for d in diff.differing] == [["amount_reporting", "closed_at"], ["primary_contact_id"]]
    text = diff.report()
    assert "closed_at" in text and "warehouse=" in text and "reference=" in text
    assert len(diff.only_warehouse) == 1


def test_types_and_tolerances():
    ref = [
        {
            "close_month": date(2026, 2, 1),
            "source": "hubspot",
            "won_count": 2,
            "lost_count": 0,
            "win_rate": 1.0,
            "won_amount_reporting": None,
            "avg_won_deal_value": None,
            "median_won_deal_value": None,
            "avg_cycle_days_won": 30.5,
            "median_cycle_days_won": 30.5,
        }
    ]
    ok = [{**ref[0], "avg_cycle_days_won": 30.5 + 5e-7, "won_count": 2}]
    assert not compare_rows("mart_deal_outcomes_monthly", ok, ref)
    for bad in ({"avg_cycle_days_won": 30.5 + 2e-6}, {"won_amount_reporting": 0.0}, {"lost_count": 1}):
        assert compare_rows("mart_deal_outcomes_monthly", [{**ref[0], **bad}], ref)
    # a timestamp where a date belongs does not match
    moved = [{**ref[0], "close_month": datetime(2026, 2, 1)}]
    assert compare_rows("mart_deal_outcomes_monthly", moved, ref).only_warehouse
