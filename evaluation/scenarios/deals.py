"""Deal rewriting helpers of the scenarios: load a sandbox deal with its history, change it, save
it back consistent (current stage, close fields, modified date in line with the history)."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from core.funnel import hubspot_stage_orders
from emulators.truth import store
from emulators.truth.store import STAGE_INDEX

STEP_ORDER: dict[str, int | None] = hubspot_stage_orders()
"""Canonical step order of each sandbox stage (None = lost), from the dbt seed funnel_stage_mapping."""


@dataclass
class Deal:
    """A deal's row (dict) and its history per property: [(value, ts, source_type, source_id,
    updated_by_user_id)] oldest first."""

    row: dict[str, Any]
    hist: dict[str, list[list[Any]]]

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def stages(self) -> list[list[Any]]:
        return self.hist["dealstage"]


def load_deal(conn: sqlite3.Connection, deal_id: int) -> Deal:
    cur = conn.execute("SELECT * FROM deals WHERE id = ?", (deal_id,))
    cols = [c[0] for c in cur.description]
    row = dict(zip(cols, cur.fetchone(), strict=True))
    hist: dict[str, list[list[Any]]] = defaultdict(list)
    for prop, value, ts, st, sid, uid in conn.execute(
        "SELECT property, value, timestamp, source_type, source_id, updated_by_user_id "
        "FROM deal_history WHERE deal_id = ? ORDER BY property, seq",
        (deal_id,),
    ):
        hist[prop].append([value, ts, st, sid, uid])
    return Deal(row, hist)


def save_deal(conn: sqlite3.Connection, deal: Deal, *, insert: bool = False) -> None:
    """Write the deal back: history renumbered (seq 0 = oldest), row fields derived from it."""
    stage = deal.stages[-1][0]
    stage_def = STAGE_INDEX[stage][1]
    deal.row["dealstage"] = stage
    deal.row["hs_is_closed"] = "true" if stage_def.is_closed else "false"
    deal.row["hs_is_closed_won"] = "true" if stage_def.is_won else "false"
    close = deal.hist.get("closedate") or []
    deal.row["closedate"] = store.iso_to_ms(close[-1][0]) if close else None
    amounts = deal.hist.get("amount") or []
    deal.row["amount"] = amounts[-1][0] if amounts else None
    did = deal.id
    if not insert:
        conn.execute("DELETE FROM deal_history WHERE deal_id = ?", (did,))
    rows = [
        (did, prop, seq, v[0], v[1], v[2], v[3], v[4])
        for prop, versions in deal.hist.items()
        for seq, v in enumerate(versions)
    ]
    conn.executemany("INSERT INTO deal_history VALUES (?,?,?,?,?,?,?,?)", rows)
    cols = list(deal.row)
    if insert:
        conn.execute(
            f"INSERT INTO deals ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})", [deal.row[c] for c in cols]
        )
    else:
        sets = ", ".join(f"{c} = ?" for c in cols if c != "id")
        conn.execute(f"UPDATE deals SET {sets} WHERE id = ?", [deal.row[c] for c in cols if c != "id"] + [did])


def live_deal_ids(conn: sqlite3.Connection, where: str = "1=1", params: tuple = ()) -> list[int]:
    return [
        r[0]
        for r in conn.execute(
            f"SELECT id FROM deals WHERE archived = 0 AND merged_into IS NULL AND {where} ORDER BY id", params
        )
    ]


# ---------------------------------------------------------------- the scenarios


def period_end_ms(end_d: date) -> int:
    """Exclusive end of the sandbox period: midnight UTC after E."""
    return store.date_to_ms(end_d + timedelta(days=1))
