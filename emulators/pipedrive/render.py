"""Sandbox rows -> Pipedrive JSON shapes (v2 deals/persons/pipelines/stages/dealFields, v1 leads
and flow items). Pure functions over one SQLite connection; the truth's Pipedrive view lives in
:mod:`emulators.truth.pipedrive`.

Shapes: v2 ids are integers, times RFC3339 without fractions (``2025-01-10T09:15:00Z``); v1 flow
values are strings and ``log_time`` is ``YYYY-MM-DD HH:MM:SS`` (UTC, no zone); v1 lead times are
ISO with milliseconds. A deal without an amount has ``value`` 0 (Pipedrive stores 0).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from emulators.truth import pipedrive as pd
from emulators.truth.store import ms_to_iso


def rfc3339(ms: int | None) -> str | None:
    """Epoch ms -> ``2025-01-10T09:15:00Z`` (whole seconds, as v2 sends)."""
    if ms is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(ms) // 1000))


def v1_time(ms: int | None) -> str | None:
    """Epoch ms -> ``2025-02-03 10:12:45`` (v1: UTC without a zone)."""
    if ms is None:
        return None
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(ms) // 1000))


def day(ms: int | None) -> str | None:
    if ms is None:
        return None
    return time.strftime("%Y-%m-%d", time.gmtime(int(ms) // 1000))


def _value(amount: str | None) -> float | int:
    if amount in (None, ""):
        return 0
    v = float(amount)
    return int(v) if v.is_integer() else v


def deal(conn: sqlite3.Connection, row: sqlite3.Row, *, include: set[str]) -> dict[str, Any]:
    """A v2 deal. Status and stage come from the replayed flow (closed = status, not stage)."""
    changes, status, held, pipeline_id = pd.deal_flow(conn, int(row["id"]))
    extra = conn.execute(
        "SELECT source_lead_id, channel, origin FROM pd_deal_leads WHERE deal_id = ?", (row["id"],)
    ).fetchone()
    person = conn.execute("SELECT min(contact_id) FROM deal_contacts WHERE deal_id = ?", (row["id"],)).fetchone()[0]
    stage_moves = [c.ts_ms for c in changes if c.field_key == "stage_id"]
    closes = [c for c in changes if c.field_key == "status" and c.new_value in ("won", "lost")]
    close_ms = closes[-1].ts_ms if closes and status in ("won", "lost") else None
    out: dict[str, Any] = {
        "id": int(row["id"]),
        "title": row["dealname"],
        "owner_id": row["hubspot_owner_id"],
        "person_id": person,
        "org_id": None,
        "pipeline_id": pipeline_id,
        "stage_id": held,
        "value": _value(row["amount"]),
        "currency": row["deal_currency_code"],
        "add_time": rfc3339(row["createdate"]),
        "update_time": rfc3339(row["hs_lastmodifieddate"]),
        "stage_change_time": rfc3339(stage_moves[-1]) if stage_moves else None,
        "is_deleted": status == "deleted",
        "is_archived": bool(row["archived"]) and status != "deleted",
        "archive_time": rfc3339(row["archived_at"]) if row["archived"] and status != "deleted" else None,
        "status": status,
        "probability": None,
        "lost_reason": None,
        "visible_to": 3,
        "close_time": rfc3339(close_ms),
        "won_time": rfc3339(close_ms) if status == "won" else None,
        "lost_time": rfc3339(close_ms) if status == "lost" else None,
        "expected_close_date": day(row["closedate"]),
        "label_ids": [],
        "origin": extra["origin"] if extra else "API",
        "origin_id": None,
        "channel": extra["channel"] if extra else None,
        "channel_id": None,
        "custom_fields": {},
    }
    if "source_lead_id" in include:
        out["source_lead_id"] = extra["source_lead_id"] if extra else None
    return out


def person(row: sqlite3.Row) -> dict[str, Any]:
    """A v2 person (a live contact)."""
    return {
        "id": int(row["id"]),
        "name": f"{row['firstname']} {row['lastname']}",
        "first_name": row["firstname"],
        "last_name": row["lastname"],
        "owner_id": row["hubspot_owner_id"],
        "org_id": None,
        "emails": [{"value": row["email"], "primary": True, "label": "work"}] if row["email"] else [],
        "phones": [],
        "label_ids": [],
        "is_deleted": False,
        "visible_to": 3,
        "add_time": rfc3339(row["createdate"]),
        "update_time": rfc3339(row["lastmodifieddate"]),
        "custom_fields": {},
    }


def lead(row: sqlite3.Row) -> dict[str, Any]:
    """A v1 lead (UUID id, ISO times with milliseconds)."""
    return {
        "id": row["id"],
        "title": row["title"],
        "owner_id": row["owner_id"],
        "creator_id": row["owner_id"],
        "label_ids": [],
        "person_id": row["person_id"],
        "organization_id": None,
        "source_name": row["source_name"],
        "origin": row["origin"],
        "origin_id": None,
        "channel": row["channel"],
        "channel_id": row["channel_id"],
        "source_deal_id": None,
        "is_archived": bool(row["is_archived"]),
        "was_seen": True,
        "value": None,
        "expected_close_date": None,
        "next_activity_id": None,
        "add_time": ms_to_iso(row["add_time"]),
        "update_time": ms_to_iso(row["update_time"]),
        "visible_to": "3",
        "cc_email": "sandbox+lead@pipedrivemail.example",
    }


def flow_items(conn: sqlite3.Connection, deal_id: int, *, only_deal_changes: bool) -> list[dict[str, Any]]:
    """The deal's flow, newest first: its dealChanges (plus an ``add_time`` change at creation)
    and, unless filtered, a note and an activity (objects the funnel must ignore)."""
    row = conn.execute("SELECT createdate, hubspot_owner_id FROM deals WHERE id = ?", (deal_id,)).fetchone()
    changes, _status, _held, _pipe = pd.deal_flow(conn, deal_id)
    created = int(row["createdate"])
    user = row["hubspot_owner_id"]
    items = [_change_item(deal_id, created * 4 + 3, "add_time", None, v1_time(created), created, user)]
    items += [_change_item(deal_id, c.id, c.field_key, c.old_value, c.new_value, c.ts_ms, user) for c in changes]
    if not only_deal_changes:
        at = created + 3_600_000
        items.append({"object": "note", "timestamp": v1_time(at), "data": {"id": deal_id % 100_000, "content": "Call"}})
        items.append(
            {"object": "activity", "timestamp": v1_time(at), "data": {"id": deal_id % 100_000, "type": "call"}}
        )
    items.sort(key=lambda i: (i["timestamp"], i["data"]["id"]), reverse=True)
    return items


def _change_item(
    deal_id: int, change_id: int, field: str, old: str | None, new: str | None, ts_ms: int, user: Any
) -> dict[str, Any]:
    when = v1_time(ts_ms)
    return {
        "object": "dealChange",
        "timestamp": when,
        "data": {
            "id": change_id,
            "item_id": deal_id,
            "user_id": user,
            "field_key": field,
            "old_value": old,
            "new_value": new,
            "is_bulk_update_flag": None,
            "log_time": when,
            "change_source": "app",
            "change_source_user_agent": "sandbox",
            "additional_data": {},
        },
    }


def pipelines() -> list[dict[str, Any]]:
    return [
        {
            "id": pid,
            "name": name,
            "order_nr": order,
            "is_deleted": False,
            "is_deal_probability_enabled": True,
            "add_time": "2024-01-02T08:00:00Z",
            "update_time": "2024-06-01T08:00:00Z",
        }
        for pid, name, order in sorted(pd.PD_PIPELINES.values())
    ]


def stages() -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "order_nr": s.order_nr,
            "name": s.name,
            "is_deleted": s.is_deleted,
            "deal_probability": s.deal_probability,
            "pipeline_id": s.pipeline_id,
            "is_deal_rot_enabled": False,
            "days_to_rotten": None,
            "add_time": "2024-01-02T08:00:00Z",
            "update_time": "2024-06-01T08:00:00Z",
        }
        for s in sorted(pd.PD_STAGES.values(), key=lambda s: s.id)
    ]


def deal_fields() -> list[dict[str, Any]]:
    """v2 dealFields: a few system fields and the Source channel enum with its options."""
    return [
        {"field_name": "Title", "field_code": "title", "field_type": "varchar", "id": 12_451, "options": None},
        {"field_name": "Value", "field_code": "value", "field_type": "monetary", "id": 12_452, "options": None},
        {
            "field_name": "Source channel",
            "field_code": "channel",
            "field_type": "enum",
            "id": pd.CHANNEL_FIELD_ID,
            "options": [{"id": i, "label": label} for i, label in pd.CHANNEL_OPTIONS],
        },
        {
            "field_name": "Segment",
            "field_code": "5f1c0a8e3d2b4c6e8f9a0b1c2d3e4f5a6b7c8d9e",
            "field_type": "enum",
            "id": 12_490,
            "options": [{"id": 1, "label": "SMB"}, {"id": 2, "label": "Enterprise"}],
        },
    ]
