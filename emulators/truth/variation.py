"""Account variation (opt-in, ``SandboxConfig(variation=True)``): makes seeded sandboxes differ
the way real accounts do, for the anomaly evaluation. The default generator output is untouched
(the demo and every other test see the same bytes).

Applied inside the generator's transaction after the CRM rows are written (hook in
``emulators.truth.generator._write``), with its own RNG (seed-derived), by removing and
rewriting rows so the sandbox stays one self-consistent CRM:

- calendar: leads and deals are thinned by a per-account day weight: weekday/weekend ratio,
  linear trend (−30%…+40% over the period), a yearly wave (amplitude 0–25%, random phase) and
  holidays (Christmas to New Year and three random bank holidays at 20%). Only rows nothing
  else points at are removed (unassociated leads; unmerged deals with their history and links);
  a day keeps its weight's share of ALL its leads (:func:`lead_keep_rates`: the removable ones
  make up for the leads that already have a deal, fewer among the newest leads);
- channel mix: 60% of the leads redraw their channel from an account-specific mix;
- owner effects: deals are reassigned to owners with account-specific weights;
- a CSV import of old deals: ~3% extra closed deals all created on one import day, 120–300 days
  before the end, each with a single stage entry at its creation (benign: first visits only);
- a renamed pipeline: the default pipeline's label changes mid-period (benign: ids unchanged).

What was applied is recorded in ``meta['variation']``.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
from datetime import date, timedelta

from emulators.truth import store

DAY_MS = 86_400_000
META_KEY = "variation"


def _day_weight(params: dict, day: date, start: date, n_days: int) -> float:
    w = 1.0 if day.weekday() < 5 else params["weekend"]
    w *= 1.0 + params["trend"] * (day - start).days / max(1, n_days - 1)
    w *= 1.0 + params["amplitude"] * math.sin(2 * math.pi * (day.timetuple().tm_yday / 365.0 - params["phase"]))
    if (
        (day.month == 12 and day.day >= 24)
        or (day.month == 1 and day.day == 1)
        or day.isoformat() in params["holidays"]
    ):
        w *= 0.2
    return max(w, 0.01)


def account_params(seed: int, start: date, n_days: int) -> dict:
    rng = random.Random(seed * 7_919 + 101)
    holidays = sorted((start + timedelta(days=rng.randrange(n_days))).isoformat() for _ in range(3))
    return {
        "weekend": rng.uniform(0.15, 0.6),
        "trend": rng.uniform(-0.3, 0.4),
        "amplitude": rng.uniform(0.0, 0.25),
        "phase": rng.random(),
        "holidays": holidays,
        "channel_multipliers": [rng.lognormvariate(0.0, 0.5) for _ in store.CHANNELS],
        "owner_weights": None,  # filled below from the owners present
        "import_day_offset": rng.randint(120, 300),
        "import_share": 0.03,
    }


def vary(conn: sqlite3.Connection, *, seed: int, start_ms: int, end_ms: int) -> dict:
    """Apply the account variation to the sandbox open on ``conn`` (see the module docstring)."""
    rng = random.Random(seed * 104_729 + 17)
    start = date(1970, 1, 1) + timedelta(days=start_ms // DAY_MS)
    n_days = (end_ms - start_ms) // DAY_MS
    params = account_params(seed, start, n_days)
    weights = {
        start + timedelta(days=d): _day_weight(params, start + timedelta(days=d), start, n_days) for d in range(n_days)
    }
    top = max(weights.values())

    def day_of(ms: int) -> date:
        return date(1970, 1, 1) + timedelta(days=ms // DAY_MS)

    def keep(ms: int) -> bool:
        return rng.random() < weights.get(day_of(ms), top) / top

    # calendar: unassociated, unmerged leads and unmerged deals (NOT IN over a subquery: SQLite
    # builds one temporary index for it; the indexes of store.INDEXES do not exist yet here)
    leads = conn.execute(
        "SELECT id, createdate, (merged_into IS NULL AND hs_merged_object_ids IS NULL "
        "AND id NOT IN (SELECT contact_id FROM deal_contacts) "
        "AND id NOT IN (SELECT merged_into FROM contacts WHERE merged_into IS NOT NULL)) FROM contacts ORDER BY id"
    ).fetchall()
    keep_lead = lead_keep_rates(weights, top, [(day_of(created), bool(free)) for _, created, free in leads])
    drop_leads = [(cid,) for cid, created, free in leads if free and rng.random() >= keep_lead[day_of(created)]]
    conn.executemany("DELETE FROM contacts WHERE id = ?", drop_leads)
    deals = conn.execute(
        "SELECT id, createdate FROM deals WHERE merged_into IS NULL AND hs_merged_object_ids IS NULL "
        "AND id NOT IN (SELECT merged_into FROM deals WHERE merged_into IS NOT NULL) ORDER BY id"
    ).fetchall()
    drop_deals = [(did,) for did, created in deals if not keep(created)]
    for table in ("deal_history", "deal_contacts"):
        conn.executemany(f"DELETE FROM {table} WHERE deal_id = ?", drop_deals)
    conn.executemany("DELETE FROM deals WHERE id = ?", drop_deals)

    # channel mix
    mix = [w * m for w, m in zip(_channel_weights(), params["channel_multipliers"], strict=True)]
    rows = conn.execute("SELECT id FROM contacts ORDER BY id").fetchall()
    updates = [(rng.choices(store.CHANNELS, mix)[0], cid) for (cid,) in rows if rng.random() < 0.6]
    conn.executemany("UPDATE contacts SET hs_analytics_source = ? WHERE id = ?", updates)

    # owner effects
    owners = [oid for (oid,) in conn.execute("SELECT id FROM owners WHERE archived = 0 ORDER BY id")]
    owner_w = [rng.lognormvariate(0.0, 0.6) for _ in owners]
    params["owner_weights"] = dict(zip(map(str, owners), owner_w, strict=True))
    deal_ids = [did for (did,) in conn.execute("SELECT id FROM deals WHERE archived = 0 ORDER BY id")]
    conn.executemany(
        "UPDATE deals SET hubspot_owner_id = ? WHERE id = ?", [(rng.choices(owners, owner_w)[0], d) for d in deal_ids]
    )

    imported = _csv_import(conn, rng, params, end_ms, len(deal_ids))
    _rename_pipeline(conn, start_ms, end_ms)
    record = {**params, "removed_leads": len(drop_leads), "removed_deals": len(drop_deals), "imported_deals": imported}
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (META_KEY, json.dumps(record, sort_keys=True)))
    return record


def lead_keep_rates(weights: dict[date, float], top: float, leads: list[tuple[date, bool]]) -> dict[date, float]:
    """{day: keep probability of its removable leads} so that each day keeps ``weight / top`` of
    ALL its leads, as a calendar effect does in a real account. Only leads nothing points at
    (no deal, no merge) can be removed, and the newest leads have had the least time to get a
    deal: thinning only those at ``weight / top`` would thin the last weeks more than older ones
    (every account's leads would sag toward the end). The removable ones make up for the others:
    (rate × all − fixed) / removable, within [0, 1] (a day whose fixed leads alone exceed its rate
    keeps all its removable ones). ``leads``: (creation day, removable) per lead. Pure."""
    all_: dict[date, int] = {}
    free: dict[date, int] = {}
    for day, removable in leads:
        all_[day] = all_.get(day, 0) + 1
        free[day] = free.get(day, 0) + removable
    out = {}
    for day, n in all_.items():
        rate = weights.get(day, top) / top
        out[day] = min(1.0, max(0.0, (rate * n - (n - free[day])) / free[day])) if free[day] else 1.0
    return out


def _channel_weights() -> tuple[float, ...]:
    from emulators.truth.profile import CHANNEL_WEIGHTS

    return CHANNEL_WEIGHTS


def _csv_import(conn: sqlite3.Connection, rng: random.Random, params: dict, end_ms: int, n_deals: int) -> int:
    """Old closed deals imported from a spreadsheet on one day: copies of closed deals' rows with
    new ids, created (and closed) on the import day, one stage entry each at their creation."""
    closed = conn.execute(
        "SELECT * FROM deals WHERE hs_is_closed = 'true' AND archived = 0 AND merged_into IS NULL ORDER BY id"
    ).fetchall()
    if not closed:
        return 0
    cols = [r[1] for r in conn.execute("PRAGMA table_info(deals)")]
    next_id = conn.execute("SELECT max(id) FROM deals").fetchone()[0] + 1
    day_ms = end_ms - params["import_day_offset"] * DAY_MS
    user = conn.execute("SELECT user_id FROM owners ORDER BY id").fetchone()[0]
    count = max(1, int(n_deals * params["import_share"]))
    for k in range(count):
        src = dict(zip(cols, rng.choice(closed), strict=True))
        at = day_ms + 10 * 3_600_000 + k * 1_000
        row = {
            **src,
            "id": next_id + k,
            "createdate": at,
            "hs_lastmodifieddate": at,
            "closedate": at,
            "dealname": f"{src['dealname']} (import)",
            "hs_merged_object_ids": None,
        }
        conn.execute(
            f"INSERT INTO deals ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})", [row[c] for c in cols]
        )
        conn.execute(
            "INSERT INTO deal_history VALUES (?, 'dealstage', 0, ?, ?, 'IMPORT', ?, ?)",
            (next_id + k, src["dealstage"], at, "csv-import", user),
        )
    return count


def _rename_pipeline(conn: sqlite3.Connection, start_ms: int, end_ms: int) -> None:
    conn.execute(
        "UPDATE pipelines SET label = label || ' (renamed)', updated_at = ? WHERE id = 'default'",
        ((start_ms + end_ms) // 2,),
    )
