"""Translate a HubSpot CRM search body into SQL over the sandbox tables.

Mirrors the contract: OR of filter groups, AND within a group; operators EQ, NEQ, LT, LTE,
GT, GTE, BETWEEN (value/highValue), IN/NOT_IN (values), HAS_PROPERTY, NOT_HAS_PROPERTY,
CONTAINS_TOKEN, NOT_CONTAINS_TOKEN. Datetimes compare as epoch ms (a value may be an epoch-ms
string or an ISO date/datetime), ids and amounts numerically, strings case-insensitively.
One sort at most; ties are broken by id in the same direction. Archived rows never match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.epoch import iso_to_ms
from emulators.hubspot.catalog import CATALOG, PropDef

MAX_LIMIT = 200
MAX_RESULTS = 10_000
MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 10
MAX_FILTERS_TOTAL = 25
SORTABLE_TYPES = {"id", "ms", "num_text", "text", "bool"}


class SearchError(ValueError):
    """A request HubSpot would reject with 400 VALIDATION_ERROR."""


@dataclass
class SearchQuery:
    """Compiled search: WHERE clause (without the archived test), params, ORDER BY, paging."""

    where: str
    params: list[Any]
    order_by: str
    limit: int
    after: int
    properties: list[str] | None


def _expr(p: PropDef) -> str:
    if p.sql_type == "num_text":
        return f"CAST({p.column} AS REAL)"
    return p.column or ""


def _value(p: PropDef, raw: Any) -> Any:
    if raw is None:
        raise SearchError(f"Filter on {p.name} needs a value")
    text = str(raw).strip()
    try:
        if p.sql_type == "ms":
            return int(text) if text.lstrip("-").isdigit() else iso_to_ms(text)
        if p.sql_type == "id":
            return int(text)
        if p.sql_type == "num_text":
            return float(text)
    except ValueError as exc:
        raise SearchError(f"{text!r} is not a valid value for property {p.name}") from exc
    if p.sql_type == "bool":
        return text.lower()
    return text


def _collate(p: PropDef) -> str:
    return " COLLATE NOCASE" if p.sql_type == "text" else ""


def _filter_sql(p: PropDef, f: dict) -> tuple[str, list[Any]]:
    op = str(f.get("operator", "EQ")).upper()
    col, coll = _expr(p), _collate(p)
    if op == "HAS_PROPERTY":
        return f"({col} IS NOT NULL AND {p.column} != '')", []
    if op == "NOT_HAS_PROPERTY":
        return f"({col} IS NULL OR {p.column} = '')", []
    cmp = {"EQ": "=", "LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}
    if op in cmp:
        return f"{col} {cmp[op]} ?{coll}", [_value(p, f.get("value"))]
    if op == "NEQ":
        return f"({col} IS NULL OR {col} != ?{coll})", [_value(p, f.get("value"))]
    if op == "BETWEEN":
        lo, hi = _value(p, f.get("value")), _value(p, f.get("highValue"))
        return f"{col} BETWEEN ? AND ?", [lo, hi]
    if op in ("IN", "NOT_IN"):
        values = f.get("values")
        if not isinstance(values, list) or not values:
            raise SearchError(f"Operator {op} needs a non-empty 'values' list")
        vals = [_value(p, v) for v in values]
        marks = ",".join("?" * len(vals))
        if op == "IN":
            return f"{col}{coll} IN ({marks})", vals
        return f"({col} IS NULL OR {col}{coll} NOT IN ({marks}))", vals
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(f.get("value", "")).replace("*", "%")
        like = f"%{token}%" if "%" not in token else token
        if op == "CONTAINS_TOKEN":
            return f"{p.column} LIKE ?", [like]
        return f"({p.column} IS NULL OR {p.column} NOT LIKE ?)", [like]
    raise SearchError(f"Unknown operator {op}")


def _int(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(str(value))
    except ValueError as exc:
        raise SearchError(f"{name} must be an integer, got {value!r}") from exc


def compile_search(object_type: str, body: dict) -> SearchQuery:
    """Validate a search body and compile it. Raises SearchError on anything HubSpot rejects."""
    if not isinstance(body, dict):
        raise SearchError("Request body must be a JSON object")
    catalog = CATALOG[object_type]
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        raise SearchError(f"At most {MAX_GROUPS} filterGroups are allowed")
    group_sql: list[str] = []
    params: list[Any] = []
    total = 0
    for g in groups:
        filters = (g or {}).get("filters") or []
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise SearchError(f"At most {MAX_FILTERS_PER_GROUP} filters per group are allowed")
        total += len(filters)
        parts = []
        for f in filters:
            name = (f or {}).get("propertyName")
            p = catalog.get(name)
            if p is None or p.column is None:
                raise SearchError(
                    f"There was a problem with the request: property {name!r} does not exist or cannot be searched"
                )
            sql, ps = _filter_sql(p, f)
            parts.append(sql)
            params.extend(ps)
        if parts:
            group_sql.append("(" + " AND ".join(parts) + ")")
    if total > MAX_FILTERS_TOTAL:
        raise SearchError(f"At most {MAX_FILTERS_TOTAL} filters are allowed in total")
    where = "(" + " OR ".join(group_sql) + ")" if group_sql else "1=1"

    sorts = body.get("sorts") or []
    if not isinstance(sorts, list):
        raise SearchError("sorts must be a list")
    if len(sorts) > 1:
        raise SearchError("Only one sort is allowed")
    order_by = "id ASC"
    if sorts:
        s = sorts[0]
        name, direction = (
            (s, "ASCENDING")
            if isinstance(s, str)
            else (s.get("propertyName"), str(s.get("direction", "ASCENDING")).upper())
        )
        p = catalog.get(name)
        if p is None or p.column is None or p.sql_type not in SORTABLE_TYPES:
            raise SearchError(f"Cannot sort on property {name!r}")
        if direction not in ("ASCENDING", "DESCENDING"):
            raise SearchError(f"Unknown sort direction {direction!r}")
        d = "ASC" if direction == "ASCENDING" else "DESC"
        order_by = f"id {d}" if p.column == "id" else f"{_expr(p)} {d}, id {d}"

    limit = _int(body.get("limit"), "limit", 10)
    if limit < 1 or limit > MAX_LIMIT:
        raise SearchError(f"limit must be between 1 and {MAX_LIMIT}")
    after = _int(body.get("after"), "after", 0)
    if after < 0:
        raise SearchError("after must be >= 0")
    if after >= MAX_RESULTS:
        raise SearchError(
            f"Paging past {MAX_RESULTS} results is not supported (after={after}); narrow the query instead"
        )
    props = body.get("properties")
    if props is not None and not isinstance(props, list):
        raise SearchError("properties must be a list")
    return SearchQuery(where, params, order_by, limit, after, props)
