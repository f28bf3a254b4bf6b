"""Raw Pipedrive tables (schema ``raw_pipedrive``).

Raw mirrors the API: JSON numbers stay numbers (``value`` DOUBLE, user/stage/pipeline ids BIGINT),
times stay the API's strings (v2 RFC3339, v1 flow ``YYYY-MM-DD HH:MM:SS`` UTC, v1 leads ISO with
ms). Record ids are text, the warehouse's key convention (deals and persons are integers in the
API, leads UUIDs).
"""

from __future__ import annotations

from connectors.common import TableSchema

_V, _B, _D, _BOOL = "VARCHAR", "BIGINT", "DOUBLE", "BOOLEAN"

TABLES: dict[str, TableSchema] = {
    t.name: t
    for t in (
        TableSchema(
            "deals",
            {
                "id": _V,
                "title": _V,
                "owner_id": _B,
                "person_id": _B,
                "org_id": _B,
                "pipeline_id": _B,
                "stage_id": _B,
                "value": _D,
                "currency": _V,
                "status": _V,
                "add_time": _V,
                "update_time": _V,
                "stage_change_time": _V,
                "close_time": _V,
                "won_time": _V,
                "lost_time": _V,
                "expected_close_date": _V,
                "is_deleted": _BOOL,
                "is_archived": _BOOL,
                "origin": _V,
                "channel": _B,
                "channel_id": _V,
                "source_lead_id": _V,
            },
            ("id",),
            "Deals from /api/v2/deals (open, won, lost, deleted) and /api/v2/deals/archived.",
        ),
        TableSchema(
            "deal_flow",
            {
                "deal_id": _V,
                "change_id": _B,
                "object": _V,
                "field_key": _V,
                "old_value": _V,
                "new_value": _V,
                "log_time": _V,
                "change_source": _V,
                "user_id": _B,
            },
            ("deal_id", "change_id"),
            "dealChange items of each deal's /v1/deals/{id}/flow (values as strings). Replaced per deal.",
        ),
        TableSchema(
            "persons",
            {
                "id": _V,
                "name": _V,
                "owner_id": _B,
                "org_id": _B,
                "primary_email": _V,
                "add_time": _V,
                "update_time": _V,
                "is_deleted": _BOOL,
            },
            ("id",),
            "Persons (contacts) from /api/v2/persons; the primary email only.",
        ),
        TableSchema(
            "leads",
            {
                "id": _V,
                "title": _V,
                "owner_id": _B,
                "person_id": _B,
                "organization_id": _B,
                "source_name": _V,
                "origin": _V,
                "channel": _B,
                "channel_id": _V,
                "is_archived": _BOOL,
                "add_time": _V,
                "update_time": _V,
            },
            ("id",),
            "Leads from /v1/leads and /v1/leads/archived, read in full every run (converted leads vanish).",
        ),
        TableSchema(
            "pipelines",
            {"id": _V, "name": _V, "order_nr": "INTEGER", "is_deleted": _BOOL, "add_time": _V, "update_time": _V},
            ("id",),
            "Pipelines from /api/v2/pipelines, replaced whole on every sync.",
        ),
        TableSchema(
            "stages",
            {
                "id": _V,
                "pipeline_id": _V,
                "name": _V,
                "order_nr": "INTEGER",
                "deal_probability": _D,
                "is_deleted": _BOOL,
                "add_time": _V,
                "update_time": _V,
            },
            ("id",),
            "Stages of every pipeline from /api/v2/stages (ids are account-wide), replaced whole.",
        ),
        TableSchema(
            "deal_field_options",
            {"field_code": _V, "field_id": _B, "field_name": _V, "option_id": _V, "label": _V},
            ("field_code", "option_id"),
            "Options of the enum deal fields from /api/v2/dealFields (the Source channel labels).",
        ),
    )
}

STREAM_TABLES: dict[str, tuple[str, ...]] = {
    "pipelines": ("pipelines", "stages", "deal_field_options"),
    "persons": ("persons",),
    "leads": ("leads",),
    "deals": ("deals", "deal_flow"),
}
