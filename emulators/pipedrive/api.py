"""The Pipedrive endpoints of the sandbox as plain functions ``(Call) -> (status, body)``.

v2 (``/api/v2/...``): deals (+ ``/archived``), persons, pipelines, stages, dealFields, with
``cursor``/``limit`` paging (``additional_data.next_cursor``). v1 (``/v1/...`` or
``/api/v1/...``): leads (+ ``/archived``), deal flow, dealFields, with ``start``/``limit`` paging
(``additional_data.pagination``). The v1 list endpoints of deals, persons, pipelines and stages
answer 410 (out of support since 2026-08-01).
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulators.pipedrive import render

Response = tuple[int, dict]
MAX_LIMIT = 500
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass
class Call:
    conn: sqlite3.Connection
    path: str
    query: dict[str, list[str]]
    params: dict[str, str] = field(default_factory=dict)

    def q(self, name: str, default: str | None = None) -> str | None:
        v = self.query.get(name)
        return v[-1] if v else default


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def error_body(message: str, info: str = "Please check developers.pipedrive.com", **extra: Any) -> dict:
    """Pipedrive's error envelope."""
    return {"success": False, "error": message, "error_info": info, "data": None, "additional_data": None, **extra}


def _limit(call: Call, default: int = 100) -> int:
    raw = call.q("limit")
    if raw in (None, ""):
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(400, f"limit must be an integer between 1 and {MAX_LIMIT}")
    return int(raw)


def _since_ms(call: Call, name: str) -> int | None:
    raw = call.q(name)
    if raw in (None, ""):
        return None
    if not _RFC3339.match(raw):
        raise ApiError(400, f"{name} must be an RFC3339 date-time like 2025-01-01T10:20:00Z (got {raw!r})")
    dt = datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1000


def _encode(last: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last).encode()).decode()


def _decode(call: Call) -> list[Any] | None:
    raw = call.q("cursor")
    if not raw:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(raw.encode()))
        assert isinstance(value, list) and len(value) == 2
        return value
    except Exception as exc:  # noqa: BLE001
        raise ApiError(400, "Invalid cursor") from exc


def _v2_page(items: list[dict], more: bool, last: list[Any] | None) -> Response:
    body: dict[str, Any] = {"success": True, "data": items, "additional_data": {"next_cursor": None}}
    if more and last is not None:
        body["additional_data"]["next_cursor"] = _encode(last)
    return 200, body


def _keyset(call: Call, sql: str, args: list[Any], time_col: str) -> tuple[list[sqlite3.Row], bool, list | None]:
    """One v2 page of ``sql`` (a SELECT with a WHERE), sorted by id or update time."""
    limit = _limit(call)
    sort_by = call.q("sort_by", "id")
    if sort_by not in ("id", "update_time", "add_time"):
        raise ApiError(400, "sort_by must be one of id, update_time, add_time")
    if call.q("sort_direction", "asc") != "asc":
        raise ApiError(400, "the sandbox serves sort_direction=asc only")
    column = "createdate" if sort_by == "add_time" else time_col
    key = "id" if sort_by == "id" else f"({column} / 1000)"
    after = _decode(call)
    if after is not None:
        sql += f" AND ({key} > ? OR ({key} = ? AND id > ?))"
        args = [*args, after[0], after[0], after[1]]
    rows = call.conn.execute(f"{sql} ORDER BY {key}, id LIMIT ?", [*args, limit + 1]).fetchall()
    page, more = rows[:limit], len(rows) > limit
    last = None
    if page:
        r = page[-1]
        k = int(r["id"]) if sort_by == "id" else int(r[column]) // 1000
        last = [k, int(r["id"])]
    return page, more, last


_STATUS_SQL = {
    "open": "(d.merged_into IS NULL AND s.is_closed = 0)",
    "won": "(d.merged_into IS NULL AND s.is_won = 1)",
    "lost": "(d.merged_into IS NULL AND s.is_closed = 1 AND s.is_won = 0)",
    "deleted": "(d.merged_into IS NOT NULL)",
}


def _deals(call: Call, *, archived: bool) -> Response:
    statuses = [s for s in (call.q("status") or "open,won,lost").split(",") if s]
    if any(s not in _STATUS_SQL for s in statuses):
        raise ApiError(400, "status must be a comma list of open, won, lost, deleted")
    include = {f for f in (call.q("include_fields") or "").split(",") if f}
    where = ["(d.archived = ? OR d.merged_into IS NOT NULL)" if not archived else "d.archived = 1"]
    args: list[Any] = [0]
    if archived:
        args = []
        where.append("d.merged_into IS NULL")
    where.append("(" + " OR ".join(_STATUS_SQL[s] for s in statuses) + ")")
    since, until = _since_ms(call, "updated_since"), _since_ms(call, "updated_until")
    if since is not None:
        where.append("d.hs_lastmodifieddate / 1000 * 1000 >= ?")
        args.append(since)
    if until is not None:
        where.append("d.hs_lastmodifieddate / 1000 * 1000 < ?")
        args.append(until)
    ids = [int(x) for x in (call.q("ids") or "").split(",") if x.strip().isdigit()]
    if ids:
        where.append(f"d.id IN ({','.join('?' * len(ids))})")
        args.extend(ids)
    inner = "SELECT d.* FROM deals d JOIN stages s ON s.id = d.dealstage WHERE " + " AND ".join(where)
    sql = f"SELECT * FROM ({inner}) WHERE 1 = 1"
    page, more, last = _keyset(call, sql, args, "hs_lastmodifieddate")
    return _v2_page([render.deal(call.conn, r, include=include) for r in page], more, last)


def list_deals(call: Call) -> Response:
    return _deals(call, archived=False)


def list_archived_deals(call: Call) -> Response:
    return _deals(call, archived=True)


def list_persons(call: Call) -> Response:
    where, args = ["archived = 0"], []
    since = _since_ms(call, "updated_since")
    if since is not None:
        where.append("lastmodifieddate / 1000 * 1000 >= ?")
        args.append(since)
    sql = "SELECT * FROM contacts WHERE " + " AND ".join(where)
    page, more, last = _keyset(call, sql, args, "lastmodifieddate")
    return _v2_page([render.person(r) for r in page], more, last)


def _no_updated_since(call: Call) -> None:
    if call.q("updated_since") is not None:
        raise ApiError(400, "Parameter 'updated_since' is not allowed for this endpoint")


def _static_page(call: Call, items: list[dict]) -> Response:
    limit = _limit(call)
    after = _decode(call)
    start = int(after[1]) if after else 0
    page = items[start : start + limit]
    more = start + limit < len(items)
    return _v2_page(page, more, [0, start + limit] if more else None)


def list_pipelines(call: Call) -> Response:
    _no_updated_since(call)
    return _static_page(call, render.pipelines())


def list_stages(call: Call) -> Response:
    _no_updated_since(call)
    items = render.stages()
    pid = call.q("pipeline_id")
    if pid:
        items = [s for s in items if str(s["pipeline_id"]) == pid]
    return _static_page(call, items)


def list_deal_fields(call: Call) -> Response:
    return _static_page(call, render.deal_fields())


def v1_deal_fields(call: Call) -> Response:
    fields = [
        {"id": f["id"], "key": f["field_code"], "name": f["field_name"], "field_type": f["field_type"]}
        | ({"options": f["options"]} if f["options"] else {})
        for f in render.deal_fields()
    ]
    return _v1_page(call, fields)


# ---------------------------------------------------------------- v1


def _start(call: Call) -> int:
    raw = call.q("start", "0") or "0"
    if not raw.isdigit():
        raise ApiError(400, "start must be a non-negative integer")
    return int(raw)


def _v1_page(call: Call, items: list[dict], *, total: int | None = None, start: int | None = None) -> Response:
    """``items`` is the whole list (or, with ``total``, one page fetched from ``start``)."""
    limit = _limit(call)
    start = _start(call) if start is None else start
    if total is None:
        total = len(items)
        items = items[start : start + limit]
    more = start + len(items) < total
    pagination: dict[str, Any] = {"start": start, "limit": limit, "more_items_in_collection": more}
    if more:
        pagination["next_start"] = start + limit
    return 200, {"success": True, "data": items or None, "additional_data": {"pagination": pagination}}


def _leads(call: Call, *, archived: bool) -> Response:
    limit, start = _limit(call), _start(call)
    sort = (call.q("sort") or "add_time ASC").replace("+", " ")
    column = {"add_time": "add_time", "update_time": "update_time", "id": "id"}.get(sort.split(" ")[0])
    if column is None:
        raise ApiError(400, "sort must be add_time, update_time or id, optionally with ASC/DESC")
    direction = "DESC" if sort.upper().endswith("DESC") else "ASC"
    where = "still_listed = 1 AND is_archived = ?"
    total = call.conn.execute(f"SELECT count(*) FROM pd_leads WHERE {where}", (int(archived),)).fetchone()[0]
    rows = call.conn.execute(
        f"SELECT * FROM pd_leads WHERE {where} ORDER BY {column} {direction}, id LIMIT ? OFFSET ?",
        (int(archived), limit, start),
    ).fetchall()
    return _v1_page(call, [render.lead(r) for r in rows], total=total, start=start)


def list_leads(call: Call) -> Response:
    return _leads(call, archived=False)


def list_archived_leads(call: Call) -> Response:
    return _leads(call, archived=True)


def deal_flow(call: Call) -> Response:
    raw = call.params["id"]
    row = None
    if raw.isdigit():
        row = call.conn.execute("SELECT id, merged_into FROM deals WHERE id = ?", (int(raw),)).fetchone()
    if row is None or row["merged_into"] is not None:  # unknown or deleted: 404
        raise ApiError(404, "Deal not found")
    kinds = {k for k in (call.q("items") or "").split(",") if k}
    items = render.flow_items(call.conn, int(raw), only_deal_changes=bool(kinds) and kinds <= {"dealChange"})
    if kinds:
        items = [i for i in items if i["object"] in kinds or (i["object"] == "dealChange" and "change" in kinds)]
    return _v1_page(call, items)


def gone(call: Call) -> Response:  # noqa: ARG001
    raise ApiError(
        410,
        "This endpoint is no longer supported. Use the v2 endpoint under /api/v2/ instead.",
        errorCode="endpoint_removed",
    )


_V1 = r"(?:/api)?/v1"
ROUTES: list[tuple[re.Pattern[str], Callable[[Call], Response]]] = [
    (re.compile(r"^/api/v2/deals$"), list_deals),
    (re.compile(r"^/api/v2/deals/archived$"), list_archived_deals),
    (re.compile(r"^/api/v2/persons$"), list_persons),
    (re.compile(r"^/api/v2/pipelines$"), list_pipelines),
    (re.compile(r"^/api/v2/stages$"), list_stages),
    (re.compile(r"^/api/v2/dealFields$"), list_deal_fields),
    (re.compile(rf"^{_V1}/leads$"), list_leads),
    (re.compile(rf"^{_V1}/leads/archived$"), list_archived_leads),
    (re.compile(rf"^{_V1}/deals/(?P<id>[^/]+)/flow$"), deal_flow),
    (re.compile(rf"^{_V1}/dealFields$"), v1_deal_fields),
    (re.compile(rf"^{_V1}/(?:deals|persons|pipelines|stages)(?:/[^/]+)?$"), gone),
]


def route(path: str) -> tuple[Callable[[Call], Response] | None, dict[str, str]]:
    path = path.rstrip("/") or "/"
    for pattern, fn in ROUTES:
        m = pattern.match(path)
        if m:
            return fn, m.groupdict()
    return None, {}


def canonical_path(path: str) -> str:
    """For request counters: ``/api/v1`` = ``/v1``, deal ids folded into ``{id}``."""
    path = re.sub(r"^/api/v1/", "/v1/", path)
    return re.sub(r"/deals/\d+/", "/deals/{id}/", path)
