"""Deterministic change sets applied to a built sandbox, so incremental syncs find work.

Changes are stamped after everything already in the file (from ``end_date`` 23:00 UTC,
20 s apart), in this order: new contacts, stage moves / amount edits, new deals, archives,
hard deletes (GDPR style: rows gone, no tombstone) and association edits (which, as in
HubSpot, do not move ``hs_lastmodifieddate``).
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from emulators.truth import store
from emulators.truth.store import CURRENCIES, STAGE_INDEX

STEP_MS = 20_000


def _next_id(conn, table: str, key: str) -> int:
    hwm = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    top = conn.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0
    return max(top, int(hwm[0]) if hwm else 0)


def _set_meta(conn, key: str, value: object) -> None:
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))


def _append_history(
    conn, deal_id: int, prop: str, value: str, ts: int, src: tuple[str, str | None, int | None]
) -> None:
    seq = conn.execute(
        "SELECT coalesce(max(seq), -1) + 1 FROM deal_history WHERE deal_id = ? AND property = ?", (deal_id, prop)
    ).fetchone()[0]
    conn.execute("INSERT INTO deal_history VALUES (?,?,?,?,?,?,?,?)", (deal_id, prop, seq, value, ts, *src))


def _user_source(conn, owner_id: int | None) -> tuple[str, str | None, int | None]:
    row = conn.execute("SELECT user_id FROM owners WHERE id = ?", (owner_id,)).fetchone()
    if row is None:
        return "API", "491217", None
    return "CRM_UI", f"userId:{row[0]}", row[0]


def _move_deal(conn, rng: random.Random, deal_id: int, ts: int) -> None:
    d = conn.execute("SELECT * FROM deals WHERE id = ?", (deal_id,)).fetchone()
    pipe, stage = STAGE_INDEX[d["dealstage"]]
    src = _user_source(conn, d["hubspot_owner_id"])
    updates: dict[str, object] = {"hs_lastmodifieddate": ts}
    if not stage.is_closed:
        opens = pipe.open_stages
        k = opens.index(stage.id) if stage.id in opens else -1
        nxt = opens[k + 1] if k + 1 < len(opens) else pipe.won_stage
        _append_history(conn, deal_id, "dealstage", nxt, ts, src)
        updates["dealstage"] = nxt
        if nxt == pipe.won_stage:
            _append_history(conn, deal_id, "closedate", store.ms_to_iso(ts) or "", ts, src)
            updates.update(closedate=ts, hs_is_closed="true", hs_is_closed_won="true")
    else:
        old = float(d["amount"]) if d["amount"] else 5000.0
        amount = str(int(round(old * rng.uniform(1.05, 1.3), -1)))
        _append_history(conn, deal_id, "amount", amount, ts, src)
        updates["amount"] = amount
    sets = ", ".join(f"{k} = ?" for k in updates)
    conn.execute(f"UPDATE deals SET {sets} WHERE id = ?", [*updates.values(), deal_id])


def mutate(
    path: Path | str,
    *,
    seed: int,
    n_updated_deals: int = 10,
    n_new_deals: int = 5,
    n_archived_deals: int = 2,
    n_hard_deleted_deals: int = 1,
    n_new_contacts: int = 5,
    n_association_changes: int = 2,
) -> dict:
    """Apply one deterministic change set; returns the ids touched per category (strings)
    plus ``first_change_ms`` / ``last_change_ms``. Same file state + seed -> same changes."""
    conn = store.connect(path)
    try:
        meta = store.read_meta(conn)
        n_mut = int(meta.get("mutations", "0"))
        rng = random.Random(f"mutate:{seed}:{n_mut}")
        end_ms = store.date_to_ms(date.fromisoformat(meta["end_date"]))
        end_ms += 86_400_000
        top = max(
            conn.execute("SELECT max(hs_lastmodifieddate) FROM deals").fetchone()[0] or 0,
            conn.execute("SELECT max(lastmodifieddate) FROM contacts").fetchone()[0] or 0,
        )
        t = max(end_ms - 3_600_000, top + 60_000)
        first = t

        def tick() -> int:
            nonlocal t
            t += STEP_MS
            return t

        live = [r[0] for r in conn.execute("SELECT id FROM deals WHERE archived = 0 ORDER BY id")]
        n_pick = n_updated_deals + n_archived_deals + n_hard_deleted_deals + n_association_changes
        picked = rng.sample(live, min(n_pick, len(live)))
        upd = picked[:n_updated_deals]
        arch = picked[n_updated_deals : n_updated_deals + n_archived_deals]
        hard = picked[n_updated_deals + n_archived_deals : n_updated_deals + n_archived_deals + n_hard_deleted_deals]
        assoc = picked[n_updated_deals + n_archived_deals + n_hard_deleted_deals :]
        owners = [r[0] for r in conn.execute("SELECT id FROM owners WHERE archived = 0 ORDER BY id")]
        live_contacts_hi = conn.execute("SELECT max(id) FROM contacts WHERE archived = 0").fetchone()[0] or 0

        conn.execute("BEGIN")
        # new contacts
        new_contacts: list[int] = []
        cid = _next_id(conn, "contacts", "contact_id_hwm")
        for _ in range(n_new_contacts):
            cid += rng.randint(1, 3)
            ts = tick()
            channel = rng.choice(store.CHANNELS)
            first_name = rng.choice(("Ada", "Bo", "Cy", "Di", "Ed"))
            conn.execute(
                "INSERT INTO contacts (id, createdate, lastmodifieddate, email, firstname, "
                "lastname, lifecyclestage, hs_lead_status, hs_analytics_source, "
                "hubspot_owner_id, hs_v2_date_entered_lead, archived) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,0)",
                (
                    cid,
                    ts,
                    ts,
                    f"{first_name.lower()}.new.{cid}@example.com",
                    first_name,
                    "Newman",
                    "lead",
                    "NEW",
                    channel,
                    rng.choice(owners) if owners else None,
                    ts,
                ),
            )
            new_contacts.append(cid)
        _set_meta(conn, "contact_id_hwm", cid)

        for did in upd:
            _move_deal(conn, rng, did, tick())

        # new deals
        new_deals: list[int] = []
        did = _next_id(conn, "deals", "deal_id_hwm")
        contact_pool = new_contacts or ([live_contacts_hi] if live_contacts_hi else [])
        for _ in range(n_new_deals):
            did += rng.randint(1, 3)
            ts = tick()
            owner = rng.choice(owners) if owners else None
            src = _user_source(conn, owner)
            amount = str(int(round(rng.lognormvariate(9.0, 0.8), -2)) or 100)
            currency = rng.choices(CURRENCIES, (0.7, 0.15, 0.11, 0.04))[0]
            conn.execute(
                "INSERT INTO deals (id, dealname, dealtype, createdate, hs_lastmodifieddate, "
                "pipeline, dealstage, amount, deal_currency_code, hubspot_owner_id, "
                "hs_is_closed, hs_is_closed_won, archived) "
                "VALUES (?,?,?,?,?,'default','appointmentscheduled',?,?,?,'false','false',0)",
                (did, f"New deal {did}", "newbusiness", ts, ts, amount, currency, owner),
            )
            for prop, value in (
                ("dealstage", "appointmentscheduled"),
                ("pipeline", "default"),
                ("amount", amount),
                ("deal_currency_code", currency),
            ):
                _append_history(conn, did, prop, value, ts, src)
            if contact_pool:
                conn.execute(
                    "INSERT INTO deal_contacts VALUES (?, ?)", (did, contact_pool[len(new_deals) % len(contact_pool)])
                )
            new_deals.append(did)
        _set_meta(conn, "deal_id_hwm", did)

        for d in arch:
            ts = tick()
            conn.execute(
                "UPDATE deals SET archived = 1, archived_at = ?, hs_lastmodifieddate = ? WHERE id = ?", (ts, ts, d)
            )
        for d in hard:
            for table, col in (("deal_history", "deal_id"), ("deal_contacts", "deal_id"), ("deals", "id")):
                conn.execute(f"DELETE FROM {table} WHERE {col} = ?", (d,))
        for d in assoc:
            linked = [
                r[0]
                for r in conn.execute(
                    "SELECT a.contact_id FROM deal_contacts a JOIN contacts c ON c.id = a.contact_id "
                    "AND c.archived = 0 WHERE a.deal_id = ? ORDER BY a.contact_id",
                    (d,),
                )
            ]
            if len(linked) > 1:
                conn.execute("DELETE FROM deal_contacts WHERE deal_id = ? AND contact_id = ?", (d, linked[-1]))
            else:
                row = conn.execute(
                    "SELECT id FROM contacts WHERE archived = 0 AND id NOT IN "
                    f"({','.join('?' * len(linked)) or 'NULL'}) ORDER BY id DESC LIMIT 1 OFFSET ?",
                    [*linked, rng.randrange(50)],
                ).fetchone()
                if row:
                    conn.execute("INSERT INTO deal_contacts VALUES (?, ?)", (d, row[0]))
        _set_meta(conn, "mutations", n_mut + 1)
        conn.commit()
    finally:
        conn.close()
    return {
        "updated_deals": [str(x) for x in upd],
        "new_deals": [str(x) for x in new_deals],
        "archived_deals": [str(x) for x in arch],
        "hard_deleted_deals": [str(x) for x in hard],
        "new_contacts": [str(x) for x in new_contacts],
        "association_changed_deals": [str(x) for x in assoc],
        "first_change_ms": first + STEP_MS,
        "last_change_ms": t,
    }
