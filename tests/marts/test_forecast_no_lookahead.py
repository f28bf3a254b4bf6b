"""No look-ahead: an origin's forecast moves only with what was known at the end of its day.

Three real runs (sandbox API over HTTP → raw → dbt build) on a small sandbox:
1. the sandbox as generated;
2. the same sandbox after changing how deals that close after the origin end: a win turned
   into a loss, a loss into a win, a won deal's amount tripled, a won deal's close moved a week
   later — every origin up to the chosen one forecasts exactly as before (while later actuals
   do move, so the changes reached the warehouse);
3. then also changing the amount of a deal won before the origin — now the origin's forecast
   may move, and here it does (the naive run-rate reads that month's won amount).
"""

from __future__ import annotations

import math
import os
import shutil
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from emulators.truth import store

ORIGIN = date(2026, 6, 30)
DAY_MS = 86_400_000
FORECAST_COLUMNS = ("forecast_amount_reporting", "booked_amount_reporting", "open_deal_count")
FORECAST_MART = ("marts", "mart_forecast_monthly")  # its asset key


def _build(tmp: Path) -> Path:
    from emulators.truth.generator import SandboxConfig, build_sandbox

    path = tmp / "crm.sqlite"
    build_sandbox(SandboxConfig(seed=11, n_contacts=900, n_deals=300), path)
    return path


def _run(sandbox: Path, workdir: Path) -> Path:
    """Materialize the forecast mart and everything upstream of it (raw streams, staging,
    intermediate models, seeds, their dbt tests) from the sandbox into a fresh warehouse; return
    its path. The other marts and the publish step do not feed it: left out, the run is cheaper."""
    from dagster import AssetKey, AssetSelection, DagsterInstance, materialize

    from emulators.hubspot.server import SandboxServer
    from emulators.truth.generator import end_date_of
    from orchestration.definitions import all_assets, build_resources
    from tests.conftest import CANARY_TOKEN, hubspot_resource

    (workdir / "dagster_home").mkdir(parents=True)
    warehouse = workdir / "warehouse.duckdb"
    server = SandboxServer(sandbox, token=CANARY_TOKEN)
    url = server.start()
    saved = {name: os.environ.get(name) for name in ("AS_OF_DATE", "DBT_INDIRECT_SELECTION")}
    os.environ["AS_OF_DATE"] = end_date_of(sandbox).isoformat()
    # dbt runs the tests of the selected models only, not those that also read a left-out mart
    os.environ["DBT_INDIRECT_SELECTION"] = "cautious"
    try:
        resources = build_resources(str(warehouse), hubspot=hubspot_resource(url))
        with DagsterInstance.local_temp(str(workdir / "dagster_home")) as instance:
            result = materialize(
                all_assets,
                selection=AssetSelection.assets(AssetKey(list(FORECAST_MART)))
                .upstream()
                .required_multi_asset_neighbors(),
                resources=resources,
                instance=instance,
                raise_on_error=False,
            )
        assert result.success, f"the run in {workdir.name} failed"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return warehouse


def _same(a: float | int | None, b: float | int | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


def _forecasts(warehouse: Path) -> dict[tuple, dict]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        cur = con.execute("select * from marts.mart_forecast_monthly")
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    return {(r["origin_date"], r["target_month"], r["source"], r["method"]): r for r in rows}


# ---------------------------------------------------------------- ground-truth edits


def _closes(conn: sqlite3.Connection) -> dict[int, list[tuple[int, str, int]]]:
    """deal id -> its dealstage entries [(ts, stage, seq)] for live default-pipeline deals."""
    out: dict[int, list[tuple[int, str, int]]] = {}
    rows = conn.execute(
        "SELECT h.deal_id, h.timestamp, h.value, h.seq FROM deal_history h JOIN deals d ON d.id = h.deal_id "
        "WHERE h.property = 'dealstage' AND d.archived = 0 AND d.pipeline = 'default' ORDER BY h.deal_id, h.seq"
    ).fetchall()
    for deal_id, ts, stage, seq in rows:
        out.setdefault(deal_id, []).append((ts, stage, seq))
    return out


def _closed_once_after(entries: list[tuple[int, str, int]], stage: str, after_ms: int, end_ms: int) -> bool:
    """The deal's only closed entry is its last one, it is ``stage``, between ``after_ms`` and a
    week before the end of the period, and the deal was open before it."""
    closed = [e for e in entries if store.STAGE_INDEX[e[1]][1].is_closed]
    last = entries[-1]
    return closed == [last] and last[1] == stage and after_ms <= last[0] < end_ms - 8 * DAY_MS and len(entries) > 1


def _touch(conn: sqlite3.Connection, deal_id: int, ts: int) -> None:
    conn.execute("UPDATE deals SET hs_lastmodifieddate = max(hs_lastmodifieddate, ?) WHERE id = ?", (ts, deal_id))


def _flip_outcome(conn: sqlite3.Connection, deal_id: int, seq: int, to_stage: str) -> None:
    won = "true" if to_stage == "closedwon" else "false"
    conn.execute(
        "UPDATE deal_history SET value = ? WHERE deal_id = ? AND property = 'dealstage' AND seq = ?",
        (to_stage, deal_id, seq),
    )
    conn.execute("UPDATE deals SET dealstage = ?, hs_is_closed_won = ? WHERE id = ?", (to_stage, won, deal_id))


def _set_final_amount(conn: sqlite3.Connection, deal_id: int, factor: float, at_ms: int | None) -> None:
    """Multiply the deal's amount: a new entry at ``at_ms`` or, with None, its latest entry."""
    amount = float(conn.execute("SELECT amount FROM deals WHERE id = ?", (deal_id,)).fetchone()[0])
    new = f"{amount * factor:.2f}"
    if at_ms is None:
        conn.execute(
            "UPDATE deal_history SET value = ? WHERE deal_id = ? AND property = 'amount' AND seq = "
            "(SELECT max(seq) FROM deal_history WHERE deal_id = ? AND property = 'amount')",
            (new, deal_id, deal_id),
        )
    else:
        seq = conn.execute(
            "SELECT coalesce(max(seq), -1) + 1 FROM deal_history WHERE deal_id = ? AND property = 'amount'", (deal_id,)
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO deal_history VALUES (?, 'amount', ?, ?, ?, 'CRM_UI', NULL, NULL)", (deal_id, seq, new, at_ms)
        )
        _touch(conn, deal_id, at_ms)
    conn.execute("UPDATE deals SET amount = ? WHERE id = ?", (new, deal_id))


def _move_close(conn: sqlite3.Connection, deal_id: int, close_ms: int, days: int) -> None:
    moved = close_ms + days * DAY_MS
    conn.execute(
        "UPDATE deal_history SET timestamp = ? WHERE deal_id = ? AND property = 'dealstage' AND timestamp = ?",
        (moved, deal_id, close_ms),
    )
    conn.execute(
        "UPDATE deal_history SET timestamp = ?, value = ? WHERE deal_id = ? AND property = 'closedate' "
        "AND timestamp = ?",
        (moved, store.ms_to_iso(moved), deal_id, close_ms),
    )
    conn.execute("UPDATE deals SET closedate = ? WHERE id = ?", (moved, deal_id))
    _touch(conn, deal_id, moved)


def _has_amount(conn: sqlite3.Connection, deal_id: int) -> bool:
    value = conn.execute("SELECT amount FROM deals WHERE id = ?", (deal_id,)).fetchone()[0]
    return bool(value) and float(value) > 0


def _edit_after(path: Path, origin: date) -> dict[str, int]:
    """Change four deals that close after ``end(origin)``; return which."""
    after_ms = store.date_to_ms(origin + timedelta(days=1))
    conn = store.connect(path)
    try:
        end_ms = store.date_to_ms(date.fromisoformat(store.read_meta(conn)["end_date"]) + timedelta(days=1))
        closes = _closes(conn)
        won = [
            d
            for d, e in closes.items()
            if _closed_once_after(e, "closedwon", after_ms, end_ms) and _has_amount(conn, d)
        ]
        lost = [
            d
            for d, e in closes.items()
            if _closed_once_after(e, "closedlost", after_ms, end_ms) and _has_amount(conn, d)
        ]
        assert len(won) >= 3 and lost, "the sandbox has too few deals closing after the origin"
        picked = {"won_to_lost": won[0], "lost_to_won": lost[0], "amount_tripled": won[1], "close_moved": won[2]}
        _flip_outcome(conn, won[0], closes[won[0]][-1][2], "closedlost")
        _flip_outcome(conn, lost[0], closes[lost[0]][-1][2], "closedwon")
        _set_final_amount(conn, won[1], 3.0, closes[won[1]][-1][0] + 60_000)
        _move_close(conn, won[2], closes[won[2]][-1][0], 7)
        conn.commit()
    finally:
        conn.close()
    return picked


def _edit_before(path: Path, origin: date) -> int:
    """Double the amount of a deal won in the origin's month (before ``end(origin)``)."""
    start_ms = store.date_to_ms(origin.replace(day=1))
    end_ms = store.date_to_ms(origin + timedelta(days=1))
    conn = store.connect(path)
    try:
        closes = _closes(conn)
        won = [
            d
            for d, e in closes.items()
            if _closed_once_after(e, "closedwon", start_ms, end_ms + 8 * DAY_MS) and e[-1][0] < end_ms
        ]
        won = [d for d in won if _has_amount(conn, d)]
        assert won, "the sandbox has no deal won in the origin's month"
        _set_final_amount(conn, won[0], 2.0, None)
        conn.commit()
    finally:
        conn.close()
    return won[0]


@pytest.mark.slow
def test_forecast_of_an_origin_ignores_what_happens_after_it(tmp_path: Path):
    base = _build(tmp_path)
    after = tmp_path / "after.sqlite"
    shutil.copy(base, after)
    picked = _edit_after(after, ORIGIN)
    before = tmp_path / "before.sqlite"
    shutil.copy(after, before)
    _edit_before(before, ORIGIN)

    original = _forecasts(_run(base, tmp_path / "run_original"))
    changed_after = _forecasts(_run(after, tmp_path / "run_after"))
    changed_before = _forecasts(_run(before, tmp_path / "run_before"))

    assert original.keys() == changed_after.keys()
    known = [k for k in original if k[0] <= ORIGIN]
    assert any(original[k]["forecast_amount_reporting"] for k in known if k[0] == ORIGIN)
    moved = [
        (k, c, original[k][c], changed_after[k][c])
        for k in known
        for c in FORECAST_COLUMNS
        if not _same(original[k][c], changed_after[k][c])
    ]
    assert not moved, f"changing deals that close after {ORIGIN} ({picked}) moved earlier forecasts: {moved[:5]}"
    actuals_moved = [
        k
        for k in original
        if not _same(original[k]["actual_won_amount_reporting"], changed_after[k]["actual_won_amount_reporting"])
    ]
    assert actuals_moved, "the edits after the origin changed no actual: they did not reach the warehouse"

    at_origin = [k for k in original if k[0] == ORIGIN]
    moved_by_past = [
        k
        for k in at_origin
        if not _same(changed_before[k]["forecast_amount_reporting"], changed_after[k]["forecast_amount_reporting"])
    ]
    assert moved_by_past, "changing a deal won before the origin did not move its forecast"
