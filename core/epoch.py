"""Epoch milliseconds, ISO-8601 UTC strings and dates: the one set of conversions the connectors,
the emulators and the evaluation share. HubSpot's wire format is epoch ms or ISO-8601 UTC with
milliseconds and ``Z`` (``2025-03-01T09:15:00.123Z``); naive datetimes are taken as UTC."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any, overload

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def aware(dt: datetime) -> datetime:
    """``dt`` as an aware UTC datetime (naive values are taken as UTC)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def to_ms(dt: datetime) -> int:
    """An aware/naive-UTC datetime -> epoch milliseconds."""
    return round(aware(dt).timestamp() * 1000)


def date_to_ms(d: date) -> int:
    """Midnight UTC of ``d`` as epoch ms."""
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) * 1000


@overload
def ms_to_iso(ms: int) -> str: ...
@overload
def ms_to_iso(ms: None) -> None: ...
def ms_to_iso(ms: int | None) -> str | None:
    """Epoch ms -> ``2025-03-01T09:15:00.123Z`` (None stays None)."""
    if ms is None:
        return None
    ms = int(ms)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def iso(dt: datetime) -> str:
    """An aware/naive-UTC datetime -> ISO-8601 UTC with milliseconds (truncated) and ``Z``."""
    return aware(dt).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_to_ms(text: str) -> int:
    """ISO date or datetime (``Z``/offset or naive = UTC) -> epoch ms; ValueError if it is none."""
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    dt = datetime.fromisoformat(t)
    return to_ms(dt)


def to_epoch_ms(value: Any) -> int | None:
    """A HubSpot datetime as served (ISO-8601 string, epoch-ms string or number) -> epoch ms;
    None for empty or unparseable values."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        return iso_to_ms(text)
    except ValueError:
        return None
