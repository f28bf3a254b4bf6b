"""Scenarios of missing or bad events: a lead-volume collapse, a bulk-edit flap, corrupted timestamps."""

from __future__ import annotations

import random
import sqlite3
from collections import defaultdict
from datetime import date, timedelta

from core.epoch import DAY_MS
from emulators.truth import store
from evaluation.scenarios.deals import (
    live_deal_ids,
    load_deal,
    period_end_ms,
    save_deal,
)
from evaluation.scenarios.specs import Injection


def _lead_volume_collapse(conn: sqlite3.Connection, rng: random.Random, inj: Injection, end_d: date) -> None:
    end_ms = period_end_ms(end_d)
    lo_d = end_d - timedelta(days=6)
    lo = store.date_to_ms(lo_d)
    inj.window = [lo_d.isoformat(), end_d.isoformat()]
    rows = conn.execute(
        "SELECT id, createdate FROM contacts WHERE hs_analytics_source = 'PAID_SEARCH' AND archived = 0 "
        "AND merged_into IS NULL AND createdate >= ? AND createdate < ? ORDER BY id",
        (lo, end_ms),
    ).fetchall()
    removable = [
        r[0]
        for r in rows
        if not conn.execute("SELECT hs_merged_object_ids FROM contacts WHERE id = ?", (r[0],)).fetchone()[0]
    ]
    keep_n = round(0.10 * len(rows))
    n_remove = max(0, min(len(removable), len(rows) - keep_n))
    removed = sorted(rng.sample(removable, n_remove))
    for chunk in range(0, len(removed), 500):
        ids = removed[chunk : chunk + 500]
        marks = ",".join("?" * len(ids))
        conn.execute(f"DELETE FROM deal_contacts WHERE contact_id IN ({marks})", ids)
        conn.execute(f"DELETE FROM contacts WHERE id IN ({marks})", ids)
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    gone = set(removed)
    for cid, created in rows:
        day = (lo_d + timedelta(days=(created - lo) // DAY_MS)).isoformat()
        per_day[day][0] += 1
        per_day[day][1] += cid not in gone
    inj.contact_ids = [str(c) for c in removed]
    inj.details = {
        "channel": "PAID_SEARCH",
        "leads_before": len(rows),
        "leads_after": len(rows) - len(removed),
        "removed": len(removed),
        "per_day_before_after": dict(sorted(per_day.items())),
    }


def _corrupted_timestamps(conn: sqlite3.Connection, rng: random.Random, inj: Injection, end_d: date) -> None:
    end_ms = period_end_ms(end_d)
    n_before, n_future = 15, 10
    ids = live_deal_ids(conn)
    picked = rng.sample(ids, n_before + n_future)
    before, future = sorted(picked[:n_before]), sorted(picked[n_before:])
    detail: dict[str, dict[str, str]] = {"before_creation": {}, "future": {}}
    src = ("INTEGRATION", "229813", None)
    for did in before:
        deal = load_deal(conn, did)
        t = deal.row["createdate"] - int(rng.uniform(1, 30) * DAY_MS)
        deal.stages.insert(0, [deal.stages[0][0], t, *src])  # an import dated before creation
        save_deal(conn, deal)
        detail["before_creation"][str(did)] = store.ms_to_iso(t) or ""
    for did in future:
        deal = load_deal(conn, did)
        t = end_ms + int(rng.uniform(2.0, 5.0) * 365.25 * DAY_MS)
        deal.stages.append([deal.stages[-1][0], t, *src])  # same stage, a clock years ahead
        save_deal(conn, deal)
        detail["future"][str(did)] = store.ms_to_iso(t) or ""
    inj.window = [end_d.isoformat(), end_d.isoformat()]
    inj.deal_ids = [str(d) for d in sorted(picked)]
    inj.details = detail
