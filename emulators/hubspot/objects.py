"""Turn sandbox rows into HubSpot JSON objects (properties, history, associations).

Only the ids of the page being served are looked up for history and associations, so
a page costs a handful of indexed queries whatever the size of the sandbox.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from core.epoch import ms_to_iso
from emulators.hubspot.catalog import CATALOG, DEFAULT_PROPERTIES, LASTMOD, PropDef
from emulators.truth.store import HISTORY_PROPERTIES

ASSOC_TYPE = {("deals", "contacts"): ("deal_to_contact", 3), ("contacts", "deals"): ("contact_to_deal", 4)}
ALWAYS = {
    "deals": ("createdate", "hs_lastmodifieddate", "hs_object_id"),
    "contacts": ("createdate", "lastmodifieddate", "hs_object_id"),
}


def parse_names(values: Iterable[str] | None) -> list[str]:
    """Comma lists and repeated params -> ordered unique names ('' entries dropped)."""
    out: list[str] = []
    for v in values or ():
        for name in str(v).split(","):
            name = name.strip()
            if name and name not in out:
                out.append(name)
    return out


def _fmt(p: PropDef, raw: Any) -> str | None:
    if raw is None:
        return None
    if p.sql_type == "ms":
        return ms_to_iso(raw)
    return str(raw)


def _marks(n: int) -> str:
    return ",".join("?" * n)


def stage_history(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, list[tuple]]:
    """deal id -> [(stage, ts)] oldest first."""
    out: dict[int, list[tuple]] = defaultdict(list)
    if ids:
        for did, value, ts in conn.execute(
            f"SELECT deal_id, value, timestamp FROM deal_history WHERE property='dealstage' "
            f"AND deal_id IN ({_marks(len(ids))}) ORDER BY deal_id, seq",
            list(ids),
        ):
            out[did].append((value, ts))
    return out


def stage_dates(entries: list[tuple]) -> dict[str, int | None]:
    """hs_v2_date_entered_/exited_ values (latest entry only) from a dealstage sequence.

    Repeated same-stage writes are not new entries.
    """
    out: dict[str, int | None] = {}
    prev = None
    for k, (stage, ts) in enumerate(entries):
        if stage != prev:
            out[f"hs_v2_date_entered_{stage}"] = ts
            out[f"hs_v2_date_exited_{stage}"] = None
            if prev is not None:
                out[f"hs_v2_date_exited_{prev}"] = ts
        prev = stage
        if k == len(entries) - 1:
            out["hs_v2_date_entered_current_stage"] = out[f"hs_v2_date_entered_{stage}"]
    return out


def associations(conn: sqlite3.Connection, from_type: str, to_type: str, ids: Sequence[int]) -> dict[int, list[int]]:
    """from id -> sorted live associated ids (deal<->contact only)."""
    out: dict[int, list[int]] = defaultdict(list)
    if not ids or (from_type, to_type) not in ASSOC_TYPE:
        return out
    if from_type == "deals":
        sql = (
            f"SELECT a.deal_id, a.contact_id FROM deal_contacts a JOIN contacts c "
            f"ON c.id = a.contact_id AND c.archived = 0 WHERE a.deal_id IN "
            f"({_marks(len(ids))}) ORDER BY a.deal_id, a.contact_id"
        )
    else:
        sql = (
            f"SELECT a.contact_id, a.deal_id FROM deal_contacts a JOIN deals d "
            f"ON d.id = a.deal_id AND d.archived = 0 WHERE a.contact_id IN "
            f"({_marks(len(ids))}) ORDER BY a.contact_id, a.deal_id"
        )
    for a, b in conn.execute(sql, list(ids)):
        out[a].append(b)
    return out


def _stored_history(
    conn: sqlite3.Connection, ids: Sequence[int], props: Sequence[str]
) -> dict[tuple[int, str], list[dict]]:
    out: dict[tuple[int, str], list[dict]] = defaultdict(list)
    if not ids or not props:
        return out
    sql = (
        f"SELECT deal_id, property, value, timestamp, source_type, source_id, "
        f"updated_by_user_id FROM deal_history WHERE deal_id IN ({_marks(len(ids))}) "
        f"AND property IN ({_marks(len(props))}) ORDER BY deal_id, property, seq DESC"
    )
    for did, prop, value, ts, st, sid, uid in conn.execute(sql, [*ids, *props]):
        item: dict[str, Any] = {"value": value, "timestamp": ms_to_iso(ts), "sourceType": st}
        if sid is not None:
            item["sourceId"] = sid
        if uid is not None:
            item["updatedByUserId"] = uid
        out[(did, prop)].append(item)
    return out


def serialize(
    conn: sqlite3.Connection,
    object_type: str,
    rows: Sequence[sqlite3.Row],
    *,
    properties: list[str] | None = None,
    history: Sequence[str] = (),
    assoc: Sequence[str] = (),
) -> list[dict]:
    """HubSpot objects for ``rows``; ``properties=None`` means the documented defaults."""
    catalog = CATALOG[object_type]
    names = [n for n in (properties or DEFAULT_PROPERTIES[object_type]) if n in catalog]
    names = sorted(set(names) | set(ALWAYS[object_type]))
    hist_names = [n for n in history if n in catalog]
    ids = [r["id"] for r in rows]
    lastmod = LASTMOD[object_type]

    computed_needed = any(catalog[n].column is None for n in (*names, *hist_names))
    stage_seq = stage_history(conn, ids) if computed_needed else {}
    stored = [n for n in hist_names if object_type == "deals" and n in HISTORY_PROPERTIES]
    stored_hist = _stored_history(conn, ids, stored)
    assoc_map = {t: associations(conn, object_type, t, ids) for t in assoc if (object_type, t) in ASSOC_TYPE}

    out = []
    for r in rows:
        rid = r["id"]
        calc = stage_dates(stage_seq[rid]) if computed_needed else {}

        def value(n: str, r=r, calc=calc) -> str | None:
            p = catalog[n]
            if p.column is None:
                return ms_to_iso(calc.get(n))
            return _fmt(p, r[p.column])

        obj: dict[str, Any] = {"id": str(rid), "properties": {n: value(n) for n in names}}
        if hist_names:
            ph: dict[str, list[dict]] = {}
            for n in hist_names:
                if n in stored:
                    ph[n] = stored_hist.get((rid, n), [])
                    continue
                v = value(n)
                if v is None:
                    ph[n] = []
                    continue
                calc_p = catalog[n].calculated
                ts = r[lastmod] if calc_p else r["createdate"]
                ph[n] = [{"value": v, "timestamp": ms_to_iso(ts), "sourceType": "CALCULATED" if calc_p else "CRM_UI"}]
            obj["propertiesWithHistory"] = ph
        obj["createdAt"] = ms_to_iso(r["createdate"])
        obj["updatedAt"] = ms_to_iso(r[lastmod])
        obj["archived"] = bool(r["archived"])
        if r["archived"]:
            obj["archivedAt"] = ms_to_iso(r["archived_at"])
        assoc_json = {}
        for t, amap in assoc_map.items():
            if amap.get(rid):
                label = ASSOC_TYPE[(object_type, t)][0]
                assoc_json[t] = {"results": [{"id": str(i), "type": label} for i in amap[rid]]}
        if assoc_json:
            obj["associations"] = assoc_json
        out.append(obj)
    return out
