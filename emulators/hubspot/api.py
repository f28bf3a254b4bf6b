"""The HubSpot endpoints of the sandbox, as plain functions over one SQLite connection.

Every function takes a :class:`Call` and returns ``(status, body)``; the HTTP layer in
:mod:`emulators.hubspot.server` handles auth, rate limits, faults and serialisation.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from core.epoch import ms_to_iso
from emulators.hubspot import objects
from emulators.hubspot.catalog import CATALOG, LASTMOD, PropDef
from emulators.hubspot.search import MAX_RESULTS, SearchError, compile_search

Response = tuple[int, dict]
OBJECT_TYPES = {"contacts": "contacts", "deals": "deals", "0-1": "contacts", "0-3": "deals"}
SINGULAR = {"contacts": "CONTACT", "deals": "DEAL"}


@dataclass
class Call:
    """One request as the endpoint functions see it."""

    conn: sqlite3.Connection
    method: str
    path: str  # as the client sent it (v3 or dated form), without the query string
    query: dict[str, list[str]]
    body: Any
    base_url: str
    params: dict[str, str] = field(default_factory=dict)
    db_version: str = ""  # changes whenever the file changes; keys the search-total cache

    def q(self, name: str, default: str | None = None) -> str | None:
        v = self.query.get(name)
        return v[-1] if v else default


class ApiError(Exception):
    """Raised by endpoint code; becomes a HubSpot error body."""

    def __init__(self, status: int, message: str, category: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.category, self.extra = status, message, category, extra


def error_body(message: str, category: str, **extra: Any) -> dict:
    """HubSpot's error shape (SDK ``Error`` model)."""
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category, **extra}


def _validation(message: str) -> ApiError:
    return ApiError(400, message, "VALIDATION_ERROR")


def _int_param(call: Call, name: str, default: int) -> int:
    raw = call.q(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise _validation(f"Unable to parse {name}={raw!r} as an integer") from exc


def _object_type(call: Call) -> str:
    t = OBJECT_TYPES.get(call.params["type"])
    if t is None:
        raise ApiError(400, f"Unable to infer object type from: {call.params['type']}", "VALIDATION_ERROR")
    return t


def _archived_flag(raw: Any) -> int:
    return 1 if str(raw).lower() == "true" else 0


def _now_iso() -> str:
    return ms_to_iso(int(time.time() * 1000)) or ""


# ---------------------------------------------------------------- objects


def list_objects(call: Call) -> Response:
    """GET /crm/v3/objects/{type}: id-keyed cursor paging."""
    t = _object_type(call)
    history = objects.parse_names(call.query.get("propertiesWithHistory"))
    limit = _int_param(call, "limit", 10)
    cap = 50 if history else 100
    if limit < 1 or limit > cap:
        raise _validation(
            f"limit must be between 1 and {cap}" + (" when propertiesWithHistory is requested" if history else "")
        )
    after = _int_param(call, "after", 0)
    archived = _archived_flag(call.q("archived", "false"))
    rows = call.conn.execute(
        f"SELECT * FROM {t} WHERE archived = ? AND id >= ? ORDER BY id LIMIT ?", (archived, after, limit + 1)
    ).fetchall()
    page, more = rows[:limit], len(rows) > limit
    props = objects.parse_names(call.query.get("properties")) or None
    assoc = objects.parse_names(call.query.get("associations"))
    body: dict[str, Any] = {
        "results": objects.serialize(call.conn, t, page, properties=props, history=history, assoc=assoc)
    }
    if more:
        nxt = str(rows[limit]["id"])
        params = [(k, v) for k, vs in call.query.items() if k != "after" for v in vs]
        params.append(("after", nxt))
        body["paging"] = {"next": {"after": nxt, "link": f"{call.base_url}{call.path}?{urlencode(params)}"}}
    return 200, body


def read_object(call: Call) -> Response:
    """GET /crm/v3/objects/{type}/{id}."""
    t = _object_type(call)
    raw = call.params["id"]
    archived = _archived_flag(call.q("archived", "false"))
    row = None
    if raw.isdigit():
        row = call.conn.execute(f"SELECT * FROM {t} WHERE id = ? AND archived = ?", (int(raw), archived)).fetchone()
    if row is None:
        raise ApiError(
            404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND", context={"id": [raw]}
        )
    obj = objects.serialize(
        call.conn,
        t,
        [row],
        properties=objects.parse_names(call.query.get("properties")) or None,
        history=objects.parse_names(call.query.get("propertiesWithHistory")),
        assoc=objects.parse_names(call.query.get("associations")),
    )[0]
    return 200, obj


def batch_read(call: Call) -> Response:
    """POST /crm/v3/objects/{type}/batch/read: 207 with errors when some ids are missing."""
    t = _object_type(call)
    body = call.body if isinstance(call.body, dict) else {}
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise _validation("inputs must be a list")
    history = objects.parse_names(body.get("propertiesWithHistory") or [])
    cap = 50 if history else 100
    if len(inputs) > cap:
        raise _validation(
            f"Batch size must be at most {cap}" + (" when propertiesWithHistory is requested" if history else "")
        )
    if body.get("idProperty") not in (None, "", "hs_object_id"):
        raise _validation("Only hs_object_id is supported as idProperty in the sandbox")
    started = _now_iso()
    wanted: list[str] = []
    for item in inputs:
        raw = str((item or {}).get("id", "")) if isinstance(item, dict) else str(item)
        if raw not in wanted:
            wanted.append(raw)
    ids = [int(x) for x in wanted if x.isdigit()]
    archived = _archived_flag(body.get("archived", False))
    rows = []
    if ids:
        found = {
            r["id"]: r
            for r in call.conn.execute(
                f"SELECT * FROM {t} WHERE archived = ? AND id IN ({','.join('?' * len(ids))})", [archived, *ids]
            )
        }
        rows = [found[i] for i in ids if i in found]
    found_ids = {str(r["id"]) for r in rows}
    props = objects.parse_names(body.get("properties") or []) or None
    out: dict[str, Any] = {
        "status": "COMPLETE",
        "results": objects.serialize(call.conn, t, rows, properties=props, history=history),
        "startedAt": started,
        "completedAt": _now_iso(),
    }
    missing = [x for x in wanted if x not in found_ids]
    if missing:
        out["numErrors"] = 1
        out["errors"] = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {SINGULAR[t]} objects, they may be deleted or not "
                "exist. Check that ids are valid.",
                "context": {"ids": missing},
            }
        ]
        return 207, out
    return 200, out


_TOTALS: OrderedDict[tuple, int] = OrderedDict()
_TOTALS_LOCK = threading.Lock()


def _search_total(call: Call, t: str, where: str, params: list[Any]) -> int:
    """count(*) for a search, cached per file version: paging through one query (same
    filters, growing ``after``) counts once, which matters at a million rows."""
    key = (call.db_version, t, where, tuple(params)) if call.db_version else None
    if key is not None:
        with _TOTALS_LOCK:
            if key in _TOTALS:
                _TOTALS.move_to_end(key)
                return _TOTALS[key]
    total = call.conn.execute(f"SELECT count(*) FROM {t} WHERE {where}", params).fetchone()[0]
    if key is not None:
        with _TOTALS_LOCK:
            _TOTALS[key] = total
            while len(_TOTALS) > 256:
                _TOTALS.popitem(last=False)
    return total


def search(call: Call) -> Response:
    """POST /crm/v3/objects/{type}/search."""
    t = _object_type(call)
    try:
        sq = compile_search(t, call.body)
    except SearchError as exc:
        raise _validation(str(exc)) from exc
    where = f"archived = 0 AND {sq.where}"
    total = _search_total(call, t, where, sq.params)
    take = min(sq.limit, MAX_RESULTS - sq.after)
    rows = call.conn.execute(
        f"SELECT * FROM {t} WHERE {where} ORDER BY {sq.order_by} LIMIT ? OFFSET ?", [*sq.params, take, sq.after]
    ).fetchall()
    props = sq.properties
    if props is not None:
        props = objects.parse_names(props) or None
    body: dict[str, Any] = {"total": total, "results": objects.serialize(call.conn, t, rows, properties=props)}
    nxt = sq.after + len(rows)
    if rows and nxt < total:
        # Like HubSpot, a next cursor is offered even at 10,000, where it then gets a 400.
        body["paging"] = {"next": {"after": str(nxt)}}
    return 200, body


# ---------------------------------------------------------------- associations v4


def assoc_batch_read(call: Call) -> Response:
    """POST /crm/v4/associations/{from}/{to}/batch/read."""
    from_t = OBJECT_TYPES.get(call.params["from"])
    to_t = OBJECT_TYPES.get(call.params["to"])
    if (from_t, to_t) not in objects.ASSOC_TYPE:
        raise _validation(f"Unsupported association {call.params['from']} -> {call.params['to']}")
    body = call.body if isinstance(call.body, dict) else {}
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise _validation("inputs must be a list")
    if len(inputs) > 1000:
        raise _validation("Batch size must be at most 1000")
    started = _now_iso()
    wanted = []
    for item in inputs:
        raw = str(item.get("id", "")) if isinstance(item, dict) else str(item)
        if raw not in wanted:
            wanted.append(raw)
    ids = [int(x) for x in wanted if x.isdigit()]
    live = set()
    if ids:
        live = {
            r[0]
            for r in call.conn.execute(
                f"SELECT id FROM {from_t} WHERE archived = 0 AND id IN ({','.join('?' * len(ids))})", ids
            )
        }
    amap = objects.associations(call.conn, from_t, to_t, [i for i in ids if i in live])
    type_id = objects.ASSOC_TYPE[(from_t, to_t)][1]
    results, no_assoc = [], []
    for raw in wanted:
        to = amap.get(int(raw)) if raw.isdigit() else None
        if not to:
            no_assoc.append(raw)
            continue
        results.append(
            {
                "from": {"id": raw},
                "to": [
                    {
                        "toObjectId": i,
                        "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}],
                    }
                    for i in to
                ],
            }
        )
    out: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": _now_iso()}
    if no_assoc:
        out["numErrors"] = len(no_assoc)
        out["errors"] = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                "message": f"No {to_t[:-1]} is associated with {from_t[:-1]} {raw}.",
                "context": {"fromObjectId": [raw], "toObjectType": [to_t[:-1].upper()]},
            }
            for raw in no_assoc
        ]
        return 207, out
    return 200, out


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
        raise _validation(f"Pipelines are only served for deals, not {call.params['type']}")


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
    limit = _int_param(call, "limit", 100)
    if limit < 1 or limit > 500:
        raise _validation("limit must be between 1 and 500")
    after = _int_param(call, "after", 0)
    archived = _archived_flag(call.q("archived", "false"))
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
    t = _object_type(call)
    return 200, {"results": [_property_json(k, p) for k, p in enumerate(CATALOG[t].values())]}


def property_one(call: Call) -> Response:
    """GET /crm/v3/properties/{type}/{name}."""
    t = _object_type(call)
    p = CATALOG[t].get(call.params["name"])
    if p is None:
        raise ApiError(404, f"Unable to find property {call.params['name']}", "OBJECT_NOT_FOUND")
    return 200, _property_json(list(CATALOG[t]).index(p.name), p)


# ---------------------------------------------------------------- routing

_ID = r"[^/]+"
ROUTES: list[tuple[str, re.Pattern, Callable[[Call], Response], bool]] = [
    (m, re.compile(f"^{pat}$"), fn, is_search)
    for m, pat, fn, is_search in (
        ("POST", rf"/crm/v3/objects/(?P<type>{_ID})/search", search, True),
        ("POST", rf"/crm/v3/objects/(?P<type>{_ID})/batch/read", batch_read, False),
        ("GET", rf"/crm/v3/objects/(?P<type>{_ID})", list_objects, False),
        ("GET", rf"/crm/v3/objects/(?P<type>{_ID})/(?P<id>{_ID})", read_object, False),
        ("GET", rf"/crm/v3/pipelines/(?P<type>{_ID})", pipelines, False),
        ("GET", rf"/crm/v3/pipelines/(?P<type>{_ID})/(?P<pipeline>{_ID})", pipeline, False),
        ("GET", rf"/crm/v3/pipelines/(?P<type>{_ID})/(?P<pipeline>{_ID})/stages", pipeline_stages, False),
        ("GET", r"/crm/v3/owners/?", owners, False),
        ("GET", rf"/crm/v3/owners/(?P<id>{_ID})", owner, False),
        ("GET", rf"/crm/v3/properties/(?P<type>{_ID})", properties, False),
        ("GET", rf"/crm/v3/properties/(?P<type>{_ID})/(?P<name>{_ID})", property_one, False),
        ("POST", rf"/crm/v4/associations/(?P<from>{_ID})/(?P<to>{_ID})/batch/read", assoc_batch_read, False),
    )
]
_DATED = re.compile(r"^/crm/(objects|pipelines|owners|properties)/\d{4}-\d{2}(/.*)?$")
_DATED_ASSOC = re.compile(r"^/crm/associations/\d{4}-\d{2}(/.*)?$")


def canonical_path(path: str) -> str:
    """Map date-versioned paths (``/crm/objects/2026-03/deals``) onto their v3/v4 twins."""
    m = _DATED.match(path)
    if m:
        return f"/crm/v3/{m.group(1)}{m.group(2) or ''}"
    m = _DATED_ASSOC.match(path)
    if m:
        return f"/crm/v4/associations{m.group(1) or ''}"
    return path


def route(method: str, path: str) -> tuple[Callable[[Call], Response] | None, dict, bool, bool]:
    """(handler, path params, is_search, path_exists_with_other_method)."""
    canon = canonical_path(path.rstrip("/") or "/")
    other = False
    for m, pat, fn, is_search in ROUTES:
        match = pat.match(canon)
        if match:
            if m == method:
                return fn, match.groupdict(), is_search, False
            other = True
    return None, {}, False, other


__all__ = ["LASTMOD", "ApiError", "Call", "canonical_path", "error_body", "route"]
