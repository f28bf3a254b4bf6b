"""Raw Meta tables (schema ``raw_meta``): metrics stay the strings the Graph API sends;
``actions`` / ``action_values`` are the API's lists as JSON text. ``account_day``
(``<account id>:<day>``) lets a re-read replace each day whole."""

from __future__ import annotations

from connectors.common import TableSchema

INSIGHT_FIELDS = (
    "campaign_id",
    "campaign_name",
    "account_currency",
    "spend",
    "impressions",
    "clicks",
    "actions",
    "action_values",
    "date_start",
    "date_stop",
)
CAMPAIGN_FIELDS = ("id", "name", "status", "effective_status", "objective", "created_time", "updated_time")
ACCOUNT_FIELDS = ("account_id", "name", "currency", "timezone_name", "account_status")

_V = "VARCHAR"

TABLES: dict[str, TableSchema] = {
    t.name: t
    for t in (
        TableSchema(
            "ad_accounts",
            {"account_id": _V, "name": _V, "currency": _V, "timezone_name": _V, "account_status": "BIGINT"},
            ("account_id",),
            "Meta ad accounts read: currency and time zone of their insights.",
        ),
        TableSchema(
            "campaigns",
            {"account_id": _V, **{f: _V for f in CAMPAIGN_FIELDS}},
            ("account_id", "id"),
            "Every campaign of each ad account (deleted and archived included), replaced per account on each sync.",
        ),
        TableSchema(
            "campaign_insights",
            {"account_id": _V, **{f: _V for f in INSIGHT_FIELDS}, "account_day": _V},
            ("account_id", "campaign_id", "date_start"),
            "Insights at level=campaign, time_increment=1 (days in the account's time zone); each re-read day replaced whole.",
        ),
    )
}

STREAM_TABLES: dict[str, tuple[str, ...]] = {
    "campaigns": ("campaigns", "ad_accounts"),
    "insights": ("campaign_insights",),
}
