"""The account endpoints of the sandbox: pipelines and their stages, owners, properties."""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from urllib.parse import urlencode

from core.epoch import ms_to_iso
from emulators.hubspot.calls import (
    ApiError,
    Call,
    Response,
    archived_flag,
    int_param,
    object_type,
    validation_error,
)
from emulators.hubspot.catalog import CATALOG, PropDef

# ---------------------------------------------------------------- pipelines, owners, props


def _stage_json(r: sqlite3.Row) -> dict:
    return {
        "id": r["id"],
        "label": r["label"],
        "displayOrder": r["display_order"],
        "metadata": {"isClosed": "true" if r["is_closed"] else "false", "probability": r["probability"]},
        "createdAt": ms_to_iso(r["created_at"]),
        "updatedAt": ms_to_iso(r["updated_at"]),
        "archived": bool(r["archived"]),
        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
    }


def _pipeline_json(conn: sqlite3.Connection, p: sqlite3.Row) -> dict:
    stages = conn.execute("SELECT * FROM stages WHERE pipeline_id = ? ORDER BY display_order", (p["id"],)).fetchall()
    return {
        "id": p["id"],
        "label": p["label"],
        "displayOrder": p["display_order"],
        "createdAt": ms_to_iso(p["created_at"]),
        "updatedAt": ms_to_iso(p["updated_at"]),
        "archived": bool(p["archived"]),
        "stages": [_stage_json(s) for s in stages],
    }


def _check_pipeline_type(call: Call) -> None:
    if call.params["type"] not in ("deals", "0-3"):
        raise validation_error(f"Pipelines are only served for deals, not {call.params['type']}")


def pipelines(call: Call) -> Response:
    """GET /crm/v3/pipelines/deals (no paging; archived stages included, flagged)."""
    _check_pipeline_type(call)
    rows = call.conn.execute("SELECT * FROM pipelines ORDER BY display_order").fetchall()
    return 200, {"results": [_pipeline_json(call.conn, p) for p in rows]}


def _pipeline_row(call: Call) -> sqlite3.Row:
    _check_pipeline_type(call)
    p = call.conn.execute("SELECT * FROM pipelines WHERE id = ?", (call.params["pipeline"],)).fetchone()
    if p is None:
        raise ApiError(404, f"Unable to find pipeline {call.params['pipeline']}", "OBJECT_NOT_FOUND")
    return p


def pipeline(call: Call) -> Response:
    """GET /crm/v3/pipelines/deals/{pipelineId}."""
    return 200, _pipeline_json(call.conn, _pipeline_row(call))


def pipeline_stages(call: Call) -> Response:
    """GET /crm/v3/pipelines/deals/{pipelineId}/stages."""
    return 200, {"results": _pipeline_json(call.conn, _pipeline_row(call))["stages"]}


def _owner_json(r: sqlite3.Row) -> dict:
    out = {
        "id": str(r["id"]),
        "email": r["email"],
        "type": "PERSON",
        "firstName": r["first_name"],
        "lastName": r["last_name"],
        "userId": r["user_id"],
        "userIdIncludingInactive": r["user_id"],
        "createdAt": ms_to_iso(r["created_at"]),
        "updatedAt": ms_to_iso(r["updated_at"]),
        "archived": bool(r["archived"]),
        "teams": json.loads(r["teams"] or "[]"),
    }
    if r["archived"]:
        out["archivedAt"] = ms_to_iso(r["archived_at"])
    return out


def owners(call: Call) -> Response:
    """GET /crm/v3/owners (limit ≤ 500, default 100; id cursor)."""
    limit = int_param(call, "limit", 100)
    if limit < 1 or limit > 500:
        raise validation_error("limit must be between 1 and 500")
    after = int_param(call, "after", 0)
    archived = archived_flag(call.q("archived", "false"))
    where, args = "archived = ? AND id >= ?", [archived, after]
    if call.q("email"):
        where += " AND email = ?"
        args.append(call.q("email"))
    rows = call.conn.execute(f"SELECT * FROM owners WHERE {where} ORDER BY id LIMIT ?", [*args, limit + 1]).fetchall()
    body: dict[str, Any] = {"results": [_owner_json(r) for r in rows[:limit]]}
    if len(rows) > limit:
        nxt = str(rows[limit]["id"])
        params = [(k, v) for k, vs in call.query.items() if k != "after" for v in vs]
        params.append(("after", nxt))
        body["paging"] = {"next": {"after": nxt, "link": f"{call.base_url}{call.path}?{urlencode(params)}"}}
    return 200, body


def owner(call: Call) -> Response:
    """GET /crm/v3/owners/{ownerId}."""
    raw = call.params["id"]
    r = call.conn.execute("SELECT * FROM owners WHERE id = ?", (int(raw) if raw.isdigit() else -1,)).fetchone()
    if r is None:
        raise ApiError(404, f"Owner {raw} not found", "OBJECT_NOT_FOUND")
    return 200, _owner_json(r)


def _property_json(order: int, p: PropDef) -> dict:
    return {
        "name": p.name,
        "label": p.label,
        "type": p.type,
        "fieldType": p.field_type,
        "groupName": p.group,
        "description": "",
        "displayOrder": order,
        "options": [
            {"label": lab, "value": val, "displayOrder": k, "hidden": False} for k, (val, lab) in enumerate(p.options)
        ],
        "calculated": p.calculated,
        "externalOptions": False,
        "hasUniqueValue": p.name == "hs_object_id",
        "hidden": False,
        "hubspotDefined": True,
        "formField": not p.calculated,
        "archived": False,
        "modificationMetadata": {"archivable": False, "readOnlyDefinition": True, "readOnlyValue": p.calculated},
        "createdAt": "2019-08-06T02:41:52.000Z",
        "updatedAt": "2019-08-06T02:41:52.000Z",
    }


def properties(call: Call) -> Response:
    """GET /crm/v3/properties/{type}."""
    t = object_type(call)
    return 200, {"results": [_property_json(k, p) for k, p in enumerate(CATALOG[t].values())]}


def property_one(call: Call) -> Response:
    """GET /crm/v3/properties/{type}/{name}."""
    t = object_type(call)
    p = CATALOG[t].get(call.params["name"])
    if p is None:
        raise ApiError(404, f"Unable to find property {call.params['name']}", "OBJECT_NOT_FOUND")
    return 200, _property_json(list(CATALOG[t]).index(p.name), p)
