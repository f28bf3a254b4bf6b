"""Pure functions: Google Ads REST JSON (lowerCamelCase) -> raw rows; customer id rules."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from connectors.common import ConnectorError, Row

_ID = re.compile(r"^\d{10}$")


def normalize_customer_id(raw: str) -> str:
    """``123-456-7890`` -> ``1234567890``; anything but 10 digits is a clear error."""
    digits = raw.strip().replace("-", "")
    if not _ID.match(digits):
        raise ConnectorError(
            f"Google Ads customer id {raw.strip()!r} is not 10 digits (dashes allowed). Fix "
            "GOOGLE_ADS_CUSTOMER_IDS / GOOGLE_ADS_LOGIN_CUSTOMER_ID."
        )
    return digits


def customer_ids(raw: str | Iterable[str] | None) -> list[str]:
    """The comma-separated setting as normalized, de-duplicated ids (order kept)."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    out: list[str] = []
    for item in items:
        if item.strip():
            cid = normalize_customer_id(item)
            if cid not in out:
                out.append(cid)
    return out


def flatten_stream(batches: Any) -> list[dict[str, Any]]:
    """searchStream answers a JSON array of batches, each with ``results``."""
    if isinstance(batches, dict):  # tolerate a single batch object
        batches = [batches]
    if not isinstance(batches, list):
        raise ConnectorError("Google Ads searchStream did not return a JSON array of batches.")
    return [r for b in batches if isinstance(b, dict) for r in (b.get("results") or [])]


def _int_str(value: Any) -> str:
    """int64 as the API's string; omitted (zero) -> "0"."""
    if value is None or value == "":
        return "0"
    return str(int(value))


def _double(value: Any) -> float:
    return 0.0 if value is None or value == "" else float(value)


def stats_row(result: dict[str, Any]) -> Row:
    """One campaign × day result -> a ``campaign_stats`` row."""
    customer = result.get("customer") or {}
    campaign = result.get("campaign") or {}
    metrics = result.get("metrics") or {}
    day = (result.get("segments") or {}).get("date")
    cid = str(customer.get("id") or "")
    if not cid or not campaign.get("id") or not day:
        raise ConnectorError("Google Ads returned a campaign row without customer.id, campaign.id or segments.date.")
    return {
        "customer_id": cid,
        "campaign_id": str(campaign["id"]),
        "date": day,
        "campaign_name": campaign.get("name"),
        "campaign_status": campaign.get("status"),
        "currency_code": customer.get("currencyCode"),
        "time_zone": customer.get("timeZone"),
        "cost_micros": _int_str(metrics.get("costMicros")),
        "clicks": _int_str(metrics.get("clicks")),
        "impressions": _int_str(metrics.get("impressions")),
        "conversions": _double(metrics.get("conversions")),
        "conversions_value": _double(metrics.get("conversionsValue")),
        "customer_day": f"{cid}:{day}",
    }


def campaign_row(result: dict[str, Any]) -> Row:
    customer = result.get("customer") or {}
    campaign = result.get("campaign") or {}
    return {
        "customer_id": str(customer.get("id") or ""),
        "campaign_id": str(campaign.get("id") or ""),
        "name": campaign.get("name"),
        "status": campaign.get("status"),
    }


def customer_row(result: dict[str, Any]) -> Row:
    customer = result.get("customer") or {}
    return {
        "customer_id": str(customer.get("id") or ""),
        "descriptive_name": customer.get("descriptiveName"),
        "currency_code": customer.get("currencyCode"),
        "time_zone": customer.get("timeZone"),
    }


def retry_delay_s(error: dict[str, Any]) -> float | None:
    """``retryDelay`` ("30s", "0.5s") from a GoogleAdsFailure's quotaErrorDetails, if any."""
    for detail in error.get("details") or []:
        for err in (detail or {}).get("errors") or []:
            delay = ((err.get("details") or {}).get("quotaErrorDetails") or {}).get("retryDelay")
            if isinstance(delay, str) and delay.endswith("s"):
                try:
                    return max(0.0, float(delay[:-1]))
                except ValueError:
                    return None
    return None


def error_codes(error: dict[str, Any]) -> list[tuple[str, str]]:
    """[(kind, value)] of every errorCode in a GoogleAdsFailure, e.g. ("quotaError", "RESOURCE_EXHAUSTED")."""
    out = []
    for detail in error.get("details") or []:
        for err in (detail or {}).get("errors") or []:
            for kind, value in (err.get("errorCode") or {}).items():
                out.append((str(kind), str(value)))
    return out
