"""Pure functions: Graph API JSON -> raw rows; account ids; throttling signals."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable
from typing import Any

from connectors.common import ConnectorError, Row
from connectors.meta.schema import CAMPAIGN_FIELDS

_ID = re.compile(r"^\d{1,20}$")
THROTTLE_CODES = frozenset({4, 17, 32, 613, 80000, 80004})
TRANSIENT_CODES = frozenset({1, 2})
AUTH_CODES = frozenset({190, 102})
PERMISSION_CODES = frozenset({10, 200, 272, 294})


def normalize_account_id(raw: str) -> str:
    """``act_123`` or ``123`` -> ``123``; anything else is a clear error."""
    value = raw.strip()
    digits = value[4:] if value.startswith("act_") else value
    if not _ID.match(digits):
        raise ConnectorError(f"Meta ad account id {value!r} is not `act_<digits>` or digits. Fix META_AD_ACCOUNT_IDS.")
    return digits


def account_ids(raw: str | Iterable[str] | None) -> list[str]:
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    out: list[str] = []
    for item in items:
        if item.strip():
            aid = normalize_account_id(item)
            if aid not in out:
                out.append(aid)
    return out


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def insight_row(account_id: str, item: dict[str, Any]) -> Row:
    if not item.get("campaign_id") or not item.get("date_start"):
        raise ConnectorError(f"Meta insights for act_{account_id} returned a row without campaign_id or date_start.")
    return {
        "account_id": account_id,
        "campaign_id": str(item["campaign_id"]),
        "campaign_name": _text(item.get("campaign_name")),
        "account_currency": _text(item.get("account_currency")),
        "spend": _text(item.get("spend")),
        "impressions": _text(item.get("impressions")),
        "clicks": _text(item.get("clicks")),
        "actions": json.dumps(item["actions"]) if item.get("actions") is not None else None,
        "action_values": json.dumps(item["action_values"]) if item.get("action_values") is not None else None,
        "date_start": item["date_start"],
        "date_stop": _text(item.get("date_stop")),
        "account_day": f"{account_id}:{item['date_start']}",
    }


def campaign_row(account_id: str, item: dict[str, Any]) -> Row:
    return {"account_id": account_id, **{f: _text(item.get(f)) for f in CAMPAIGN_FIELDS}}


def account_row(account_id: str, item: dict[str, Any]) -> Row:
    status = item.get("account_status")
    return {
        "account_id": account_id,
        "name": _text(item.get("name")),
        "currency": _text(item.get("currency")),
        "timezone_name": _text(item.get("timezone_name")),
        "account_status": int(status) if status is not None else None,
    }


def usage(header: str | None) -> tuple[float, float]:
    """(highest usage %, regain minutes) from ``x-business-use-case-usage`` (0, 0 when absent)."""
    if not header:
        return 0.0, 0.0
    try:
        data = json.loads(header)
    except ValueError:
        return 0.0, 0.0
    top, regain = 0.0, 0.0
    for entries in data.values() if isinstance(data, dict) else []:
        for e in entries if isinstance(entries, list) else []:
            for key in ("call_count", "total_cputime", "total_time"):
                with contextlib.suppress(TypeError, ValueError):
                    top = max(top, float(e.get(key) or 0))
            with contextlib.suppress(TypeError, ValueError):
                regain = max(regain, float(e.get("estimated_time_to_regain_access") or 0))
    return top, regain
