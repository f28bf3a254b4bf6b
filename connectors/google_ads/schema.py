"""Raw Google Ads tables (schema ``raw_google_ads``) and the GAQL the connector sends.

Raw mirrors the API's REST JSON: int64 values (ids, ``cost_micros``, clicks, impressions) stay
the strings Google sends; doubles (``conversions``, ``conversions_value``) are DOUBLE. A metric
the API leaves out (proto3 omits zero values) is stored as its zero (``"0"`` / 0.0).
``customer_day`` (``<customer id>:<day>``) lets a re-read replace each day whole.
"""

from __future__ import annotations

from connectors.common import TableSchema

STATS_FIELDS = (
    "customer.id",
    "customer.currency_code",
    "customer.time_zone",
    "campaign.id",
    "campaign.name",
    "campaign.status",
    "segments.date",
    "metrics.cost_micros",
    "metrics.clicks",
    "metrics.impressions",
    "metrics.conversions",
    "metrics.conversions_value",
)
CAMPAIGN_FIELDS = ("customer.id", "campaign.id", "campaign.name", "campaign.status")
CUSTOMER_FIELDS = ("customer.id", "customer.descriptive_name", "customer.currency_code", "customer.time_zone")


def stats_query(since: str, until: str) -> str:
    """Campaign × day metrics for [since, until] (the account's own days)."""
    return f"SELECT {', '.join(STATS_FIELDS)} FROM campaign WHERE segments.date BETWEEN '{since}' AND '{until}'"


CAMPAIGNS_QUERY = f"SELECT {', '.join(CAMPAIGN_FIELDS)} FROM campaign"
CUSTOMER_QUERY = f"SELECT {', '.join(CUSTOMER_FIELDS)} FROM customer"

_V = "VARCHAR"

TABLES: dict[str, TableSchema] = {
    t.name: t
    for t in (
        TableSchema(
            "customers",
            {"customer_id": _V, "descriptive_name": _V, "currency_code": _V, "time_zone": _V},
            ("customer_id",),
            "Google Ads customers (accounts) read: currency and time zone of their reports.",
        ),
        TableSchema(
            "campaigns",
            {"customer_id": _V, "campaign_id": _V, "name": _V, "status": _V},
            ("customer_id", "campaign_id"),
            "Every campaign of each customer (removed ones included), replaced per customer on each sync.",
        ),
        TableSchema(
            "campaign_stats",
            {
                "customer_id": _V,
                "campaign_id": _V,
                "date": _V,
                "campaign_name": _V,
                "campaign_status": _V,
                "currency_code": _V,
                "time_zone": _V,
                "cost_micros": _V,
                "clicks": _V,
                "impressions": _V,
                "conversions": "DOUBLE",
                "conversions_value": "DOUBLE",
                "customer_day": _V,
            },
            ("customer_id", "campaign_id", "date"),
            "searchStream rows of campaign × day (segments.date in the account's time zone); each re-read day replaced whole.",
        ),
    )
}

STREAM_TABLES: dict[str, tuple[str, ...]] = {
    "campaigns": ("campaigns", "customers"),
    "campaign_stats": ("campaign_stats",),
}
