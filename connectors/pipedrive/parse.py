"""Pure functions: Pipedrive JSON -> raw table rows. No HTTP, no state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.common import Row

DEAL_COLUMNS = (
    "title",
    "owner_id",
    "person_id",
    "org_id",
    "pipeline_id",
    "stage_id",
    "currency",
    "status",
    "add_time",
    "update_time",
    "stage_change_time",
    "close_time",
    "won_time",
    "lost_time",
    "expected_close_date",
    "origin",
    "channel",
    "channel_id",
    "source_lead_id",
)
_INT_COLUMNS = {"owner_id", "person_id", "org_id", "pipeline_id", "stage_id", "channel", "organization_id", "user_id"}


def _int(value: Any) -> int | None:
    """An id the API sends as a number (or, in v1, sometimes as an object with ``value``)."""
    if isinstance(value, dict):
        value = value.get("value") if "value" in value else value.get("id")
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def deal_row(obj: dict[str, Any]) -> Row:
    row: Row = {"id": str(obj["id"])}
    for col in DEAL_COLUMNS:
        v = obj.get(col)
        row[col] = _int(v) if col in _INT_COLUMNS else _str(v)
    value = obj.get("value")
    row["value"] = 0.0 if value is None else float(value)
    row["is_deleted"] = bool(obj.get("is_deleted", False)) or obj.get("status") == "deleted"
    row["is_archived"] = bool(obj.get("is_archived", False))
    return row


def flow_rows(deal_id: str, items: list[dict[str, Any]]) -> list[Row]:
    """The ``dealChange`` items of a flow page (other objects are not stored)."""
    rows = []
    for item in items:
        if item.get("object") != "dealChange":
            continue
        data = item.get("data") or {}
        rows.append(
            {
                "deal_id": str(deal_id),
                "change_id": _int(data.get("id")),
                "object": "dealChange",
                "field_key": _str(data.get("field_key")),
                "old_value": _str(data.get("old_value")),
                "new_value": _str(data.get("new_value")),
                "log_time": _str(data.get("log_time") or item.get("timestamp")),
                "change_source": _str(data.get("change_source")),
                "user_id": _int(data.get("user_id")),
            }
        )
    return rows


def person_row(obj: dict[str, Any]) -> Row:
    emails = obj.get("emails") or []
    primary = next((e for e in emails if e.get("primary")), emails[0] if emails else None)
    return {
        "id": str(obj["id"]),
        "name": _str(obj.get("name")),
        "owner_id": _int(obj.get("owner_id")),
        "org_id": _int(obj.get("org_id")),
        "primary_email": _str((primary or {}).get("value")),
        "add_time": _str(obj.get("add_time")),
        "update_time": _str(obj.get("update_time")),
        "is_deleted": bool(obj.get("is_deleted", False)),
    }


def lead_row(obj: dict[str, Any]) -> Row:
    return {
        "id": str(obj["id"]),
        "title": _str(obj.get("title")),
        "owner_id": _int(obj.get("owner_id")),
        "person_id": _int(obj.get("person_id")),
        "organization_id": _int(obj.get("organization_id")),
        "source_name": _str(obj.get("source_name")),
        "origin": _str(obj.get("origin")),
        "channel": _int(obj.get("channel")),
        "channel_id": _str(obj.get("channel_id")),
        "is_archived": bool(obj.get("is_archived", False)),
        "add_time": _str(obj.get("add_time")),
        "update_time": _str(obj.get("update_time")),
    }


def pipeline_row(obj: dict[str, Any]) -> Row:
    return {
        "id": str(obj["id"]),
        "name": _str(obj.get("name")),
        "order_nr": _int(obj.get("order_nr")),
        "is_deleted": bool(obj.get("is_deleted", False)),
        "add_time": _str(obj.get("add_time")),
        "update_time": _str(obj.get("update_time")),
    }


def stage_row(obj: dict[str, Any]) -> Row:
    prob = obj.get("deal_probability")
    return {
        "id": str(obj["id"]),
        "pipeline_id": _str(obj.get("pipeline_id")),
        "name": _str(obj.get("name")),
        "order_nr": _int(obj.get("order_nr")),
        "deal_probability": None if prob is None else float(prob),
        "is_deleted": bool(obj.get("is_deleted", False)),
        "add_time": _str(obj.get("add_time")),
        "update_time": _str(obj.get("update_time")),
    }


def field_option_rows(field: dict[str, Any]) -> list[Row]:
    code = field.get("field_code") or field.get("key")
    return [
        {
            "field_code": _str(code),
            "field_id": _int(field.get("id") or field.get("field_id")),
            "field_name": _str(field.get("field_name") or field.get("name")),
            "option_id": _str(opt.get("id")),
            "label": _str(opt.get("label")),
        }
        for opt in field.get("options") or []
    ]


def parse_time(value: Any) -> datetime | None:
    """v2 RFC3339 (``…Z``), v1 ``YYYY-MM-DD HH:MM:SS`` (UTC) or ISO with ms -> aware UTC."""
    if value in (None, ""):
        return None
    text = str(value).strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    """The exact form ``updated_since`` accepts: ``2025-01-01T10:20:00Z`` (no fraction)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
