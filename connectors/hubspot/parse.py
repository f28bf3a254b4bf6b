"""Pure functions: HubSpot JSON objects -> raw table rows. No HTTP, no state."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from connectors.common import Row
from core.epoch import to_epoch_ms

# v4 association type ids (HUBSPOT_DEFINED) -> the v3 ``type`` names the list endpoint uses.
V4_TYPE_NAMES: dict[int, str] = {3: "deal_to_contact", 4: "contact_to_deal"}


def _str(value: Any) -> str | None:
    """API value as raw text: None stays None, strings as sent, other scalars as JSON text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _int(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_object(obj: dict[str, Any], properties: Iterable[str]) -> Row:
    """A CRM object (contact/deal) -> row: id, each property (None when absent), object meta.

    ``archived`` is the object's flag (False when absent); ``archived_at`` its ``archivedAt``.
    """
    props = obj.get("properties") or {}
    row: Row = {"id": str(obj["id"])}
    for name in properties:
        if name != "id":
            row[name] = _str(props.get(name))
    row["created_at"] = _str(obj.get("createdAt"))
    row["updated_at"] = _str(obj.get("updatedAt"))
    row["archived"] = bool(obj.get("archived", False))
    row["archived_at"] = _str(obj.get("archivedAt"))
    return row


def history_rows(
    deal_id: str,
    properties_with_history: dict[str, list[dict[str, Any]]] | None,
    properties: Iterable[str] | None = None,
) -> list[Row]:
    """``propertiesWithHistory`` -> one row per version; index 0 is the API's first (newest).

    Only ``properties`` are kept when given. Equal timestamps keep the API's order through
    ``history_index``.
    """
    wanted = set(properties) if properties is not None else None
    rows: list[Row] = []
    for prop, versions in (properties_with_history or {}).items():
        if wanted is not None and prop not in wanted:
            continue
        for index, version in enumerate(versions or []):
            rows.append(
                {
                    "deal_id": str(deal_id),
                    "property": prop,
                    "history_index": index,
                    "value": _str(version.get("value")),
                    "timestamp": _str(version.get("timestamp")),
                    "source_type": _str(version.get("sourceType")),
                    "source_id": _str(version.get("sourceId")),
                    "updated_by_user_id": _int(version.get("updatedByUserId")),
                }
            )
    return rows


def association_rows(deal_id: str, associations: dict[str, Any] | None) -> list[Row]:
    """v3 embedded ``associations`` of a deal -> deal_contact_associations rows (deduped)."""
    results = ((associations or {}).get("contacts") or {}).get("results") or []
    rows: dict[tuple[str, str], Row] = {}
    for item in results:
        contact_id = str(item["id"])
        kind = str(item.get("type") or "deal_to_contact")
        rows[(contact_id, kind)] = {
            "deal_id": str(deal_id),
            "contact_id": contact_id,
            "association_type": kind,
        }
    return list(rows.values())


def v4_type_name(assoc_type: dict[str, Any]) -> str:
    """A v4 ``associationTypes`` entry -> the v3-style type name used in the raw table."""
    label = assoc_type.get("label")
    if label:
        return str(label)
    type_id = _int(assoc_type.get("typeId"))
    category = str(assoc_type.get("category") or "HUBSPOT_DEFINED")
    if category == "HUBSPOT_DEFINED" and type_id in V4_TYPE_NAMES:
        return V4_TYPE_NAMES[type_id]
    return f"{category.lower()}_{type_id}"


def v4_association_rows(result: dict[str, Any]) -> list[Row]:
    """One result of ``POST /crm/v4/associations/deals/contacts/batch/read`` -> rows."""
    deal_id = str((result.get("from") or {}).get("id"))
    rows: dict[tuple[str, str], Row] = {}
    for target in result.get("to") or []:
        contact_id = str(target.get("toObjectId") or target.get("id"))
        types = target.get("associationTypes") or [{}]
        for assoc_type in types:
            kind = v4_type_name(assoc_type)
            rows[(contact_id, kind)] = {
                "deal_id": deal_id,
                "contact_id": contact_id,
                "association_type": kind,
            }
    return list(rows.values())


def owner_row(obj: dict[str, Any]) -> Row:
    """An owner from ``/crm/v3/owners`` -> owners row (teams kept as JSON text)."""
    teams = obj.get("teams")
    return {
        "id": str(obj["id"]),
        "email": _str(obj.get("email")),
        "first_name": _str(obj.get("firstName")),
        "last_name": _str(obj.get("lastName")),
        "user_id": _int(obj.get("userId")),
        "teams": json.dumps(teams, separators=(",", ":")) if teams is not None else None,
        "created_at": _str(obj.get("createdAt")),
        "updated_at": _str(obj.get("updatedAt")),
        "archived": bool(obj.get("archived", False)),
    }


def pipeline_rows(obj: dict[str, Any]) -> tuple[Row, list[Row]]:
    """A pipeline with embedded ``stages`` -> (pipelines row, pipeline_stages rows)."""
    pipeline_id = str(obj["id"])
    pipeline = {
        "id": pipeline_id,
        "label": _str(obj.get("label")),
        "display_order": _int(obj.get("displayOrder")),
        "archived": bool(obj.get("archived", False)),
        "created_at": _str(obj.get("createdAt")),
        "updated_at": _str(obj.get("updatedAt")),
    }
    stages = []
    for stage in obj.get("stages") or []:
        meta = stage.get("metadata") or {}
        stages.append(
            {
                "pipeline_id": pipeline_id,
                "id": str(stage["id"]),
                "label": _str(stage.get("label")),
                "display_order": _int(stage.get("displayOrder")),
                "is_closed": _str(meta.get("isClosed")),
                "probability": _str(meta.get("probability")),
                "archived": bool(stage.get("archived", False)),
                "created_at": _str(stage.get("createdAt")),
                "updated_at": _str(stage.get("updatedAt")),
            }
        )
    return pipeline, stages


def modified_ms(obj: dict[str, Any], prop: str) -> int | None:
    """The record's last-modified moment (epoch ms): its ``prop`` property, else ``updatedAt``."""
    props = obj.get("properties") or {}
    return to_epoch_ms(props.get(prop)) or to_epoch_ms(obj.get("updatedAt"))


def later_ms(a: int | None, b: int | None) -> int | None:
    """The later of two epoch-ms moments, either of which may be unknown (None)."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
