"""The CRM object endpoints of the sandbox: list, read, batch read, search and v4 associations."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import urlencode

from emulators.hubspot import objects
from emulators.hubspot.calls import (
    OBJECT_TYPES,
    SINGULAR,
    ApiError,
    Call,
    Response,
    archived_flag,
    int_param,
    now_iso,
    object_type,
    validation_error,
)
from emulators.hubspot.search import MAX_RESULTS, SearchError, compile_search

# ---------------------------------------------------------------- objects


def list_objects(call: Call) -> Response:
    """GET /crm/v3/objects/{type}: id-keyed cursor paging."""
    t = object_type(call)
    history = objects.parse_names(call.query.get("propertiesWithHistory"))
    limit = int_param(call, "limit", 10)
    cap = 50 if history else 100
    if limit < 1 or limit > cap:
        raise validation_error(
            f"limit must be between 1 and {cap}" + (" when propertiesWithHistory is requested" if history else "")
        )
    after = int_param(call, "after", 0)
    archived = archived_flag(call.q("archived", "false"))
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
    t = object_type(call)
    raw = call.params["id"]
    archived = archived_flag(call.q("archived", "false"))
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
    t = object_type(call)
    body = call.body if isinstance(call.body, dict) else {}
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("inputs must be a list")
    history = objects.parse_names(body.get("propertiesWithHistory") or [])
    cap = 50 if history else 100
    if len(inputs) > cap:
        raise validation_error(
            f"Batch size must be at most {cap}" + (" when propertiesWithHistory is requested" if history else "")
        )
    if body.get("idProperty") not in (None, "", "hs_object_id"):
        raise validation_error("Only hs_object_id is supported as idProperty in the sandbox")
    started = now_iso()
    wanted: list[str] = []
    for item in inputs:
        raw = str((item or {}).get("id", "")) if isinstance(item, dict) else str(item)
        if raw not in wanted:
            wanted.append(raw)
    ids = [int(x) for x in wanted if x.isdigit()]
    archived = archived_flag(body.get("archived", False))
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
        "completedAt": now_iso(),
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
    t = object_type(call)
    try:
        sq = compile_search(t, call.body)
    except SearchError as exc:
        raise validation_error(str(exc)) from exc
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
        raise validation_error(f"Unsupported association {call.params['from']} -> {call.params['to']}")
    body = call.body if isinstance(call.body, dict) else {}
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("inputs must be a list")
    if len(inputs) > 1000:
        raise validation_error("Batch size must be at most 1000")
    started = now_iso()
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
    out: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": now_iso()}
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
