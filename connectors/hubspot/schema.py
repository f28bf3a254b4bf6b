"""Raw HubSpot tables (schema ``raw_hubspot``) and the property lists the connector asks for.

Raw mirrors the API: every property value HubSpot sends as a string stays ``VARCHAR`` (amounts,
dates, booleans such as ``hs_is_closed`` included); timestamps are the API's ISO-8601 strings.
Only values the API itself types are typed: ``archived`` (JSON boolean), ``display_order`` and
user ids (JSON integers), and our own ``history_index``.
"""

from __future__ import annotations

from connectors.common import TableSchema

CONTACT_PROPERTIES: tuple[str, ...] = (
    "createdate",
    "lastmodifieddate",
    "email",
    "firstname",
    "lastname",
    "lifecyclestage",
    "hs_lead_status",
    "hs_analytics_source",
    "hs_analytics_source_data_1",
    "hs_analytics_source_data_2",
    "hubspot_owner_id",
    "hs_merged_object_ids",
    "hs_object_id",
)

DEAL_PROPERTIES: tuple[str, ...] = (
    "dealname",
    "pipeline",
    "dealstage",
    "amount",
    "deal_currency_code",
    "closedate",
    "createdate",
    "hs_lastmodifieddate",
    "hubspot_owner_id",
    "hs_is_closed",
    "hs_is_closed_won",
    "hs_merged_object_ids",
    "hs_object_id",
)

DEAL_HISTORY_PROPERTIES: tuple[str, ...] = (
    "dealstage",
    "pipeline",
    "amount",
    "closedate",
    "deal_currency_code",
)

# The property that moves on every change, used as the incremental cursor.
MODIFIED_PROPERTY: dict[str, str] = {
    "contacts": "lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}

_V = "VARCHAR"
_OBJECT_META = {"created_at": _V, "updated_at": _V, "archived": "BOOLEAN", "archived_at": _V}


def _object_columns(properties: tuple[str, ...]) -> dict[str, str]:
    return {"id": _V, **{p: _V for p in properties if p != "id"}, **_OBJECT_META}


TABLES: dict[str, TableSchema] = {
    t.name: t
    for t in (
        TableSchema(
            "owners",
            {
                "id": _V,
                "email": _V,
                "first_name": _V,
                "last_name": _V,
                "user_id": "BIGINT",
                "teams": _V,
                "created_at": _V,
                "updated_at": _V,
                "archived": "BOOLEAN",
            },
            ("id",),
            "HubSpot users who own records (live and archived); teams as JSON text.",
        ),
        TableSchema(
            "pipelines",
            {
                "id": _V,
                "label": _V,
                "display_order": "INTEGER",
                "archived": "BOOLEAN",
                "created_at": _V,
                "updated_at": _V,
            },
            ("id",),
            "Deal pipelines, replaced whole on every sync.",
        ),
        TableSchema(
            "pipeline_stages",
            {
                "pipeline_id": _V,
                "id": _V,
                "label": _V,
                "display_order": "INTEGER",
                "is_closed": _V,
                "probability": _V,
                "archived": "BOOLEAN",
                "created_at": _V,
                "updated_at": _V,
            },
            ("pipeline_id", "id"),
            "Deal stages per pipeline; is_closed/probability are the API's metadata strings.",
        ),
        TableSchema(
            "contacts",
            _object_columns(CONTACT_PROPERTIES),
            ("id",),
            "Contacts (leads) with the listed properties; archived ones flagged archived=true.",
        ),
        TableSchema(
            "deals",
            _object_columns(DEAL_PROPERTIES),
            ("id",),
            "Deals with the listed properties (current values); archived ones flagged.",
        ),
        TableSchema(
            "deal_property_history",
            {
                "deal_id": _V,
                "property": _V,
                "history_index": "INTEGER",
                "value": _V,
                "timestamp": _V,
                "source_type": _V,
                "source_id": _V,
                "updated_by_user_id": "BIGINT",
            },
            ("deal_id", "property", "history_index"),
            "propertiesWithHistory per deal; history_index 0 = newest (the API's order). Replaced per deal.",
        ),
        TableSchema(
            "deal_contact_associations",
            {"deal_id": _V, "contact_id": _V, "association_type": _V},
            ("deal_id", "contact_id", "association_type"),
            "Deal-to-contact associations; replaced per deal.",
        ),
    )
}

STREAM_TABLES: dict[str, tuple[str, ...]] = {
    "owners": ("owners",),
    "pipelines": ("pipelines", "pipeline_stages"),
    "contacts": ("contacts",),
    "deals": ("deals", "deal_property_history", "deal_contact_associations"),
}
