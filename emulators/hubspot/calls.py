"""The request side of the sandbox endpoints: a :class:`Call`, HubSpot's error bodies and the
parameter parsing every handler shares."""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from core.epoch import ms_to_iso

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


def validation_error(message: str) -> ApiError:
    return ApiError(400, message, "VALIDATION_ERROR")


def int_param(call: Call, name: str, default: int) -> int:
    raw = call.q(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise validation_error(f"Unable to parse {name}={raw!r} as an integer") from exc


def object_type(call: Call) -> str:
    t = OBJECT_TYPES.get(call.params["type"])
    if t is None:
        raise ApiError(400, f"Unable to infer object type from: {call.params['type']}", "VALIDATION_ERROR")
    return t


def archived_flag(raw: Any) -> int:
    return 1 if str(raw).lower() == "true" else 0


def now_iso() -> str:
    return ms_to_iso(int(time.time() * 1000)) or ""
