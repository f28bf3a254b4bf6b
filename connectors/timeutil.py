"""Time helpers every connector's cursor uses (UTC datetimes, epoch ms, ISO text, sweep timing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


def sweep_due(state: dict[str, Any], now: datetime, every_hours: float) -> bool:
    """True when no full id sweep ran within ``every_hours`` before ``now``."""
    last = state.get("last_full_sweep_at")
    if not last:
        return True
    last_dt = datetime.fromisoformat(last)
    if last_dt.tzinfo is None:
        last_dt = last_dt.replace(tzinfo=UTC)
    return now - last_dt >= timedelta(hours=every_hours)


def aware(now: datetime) -> datetime:
    """``now`` as an aware UTC datetime (naive values are taken as UTC)."""
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def to_ms(now: datetime) -> int:
    """An aware/naive-UTC datetime -> epoch milliseconds."""
    return round(aware(now).timestamp() * 1000)


def iso(now: datetime) -> str:
    """An aware/naive-UTC datetime -> ISO-8601 UTC with milliseconds and ``Z``."""
    return aware(now).isoformat(timespec="milliseconds").replace("+00:00", "Z")
