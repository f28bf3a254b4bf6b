"""Which days an ad-platform sync reads: a first backfill, then a trailing re-read window.

Ad platforms have no modified-cursor for metrics and restate recent days (cost settles within
days, conversions within the attribution window), so every run re-reads the last
``reread_days`` days. Per account, the stored cursor is::

    {"read_through": "2026-10-31", "latest_day": "2026-10-29"}

``read_through``: the last day of the last committed chunk; ``latest_day``: the latest day that
returned a row. The next run starts at the earlier of ``read_through + 1`` (resume an unfinished
backfill) and ``min(today, latest_day) - reread_days + 1``: the window is anchored on the
account's latest activity when that is older than today (a paused account still has its last
days re-read), and never starts before ``start_date``. It ends on ``today + 1`` (UTC): accounts
east of UTC are already on tomorrow. Days are the account's own days, as the API sends them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from connectors.common import ConnectorError

CURSOR_VERSION = 1


def load_state(state: dict[str, Any] | None, source: str, stream: str) -> dict[str, Any]:
    """A stored cursor (None -> empty) validated; returns a copy."""
    if not state:
        return {"version": CURSOR_VERSION, "accounts": {}}
    if state.get("version") != CURSOR_VERSION or not isinstance(state.get("accounts"), dict):
        raise ConnectorError(
            f"{source} {stream}: stored cursor has an unknown format. Run `make reset-cursors "
            f"SOURCE={source}` to read every day again from the start date."
        )
    return {"version": CURSOR_VERSION, "accounts": {k: dict(v) for k, v in state["accounts"].items()}}


def read_range(account: dict[str, Any] | None, *, today: date, start_date: date, reread_days: int) -> tuple[date, date]:
    """(first day, last day) to read for one account (module docstring)."""
    end = today + timedelta(days=1)
    if not account or not account.get("read_through"):
        return start_date, end
    resume = date.fromisoformat(account["read_through"]) + timedelta(days=1)
    latest = account.get("latest_day")
    anchor = min(today, date.fromisoformat(latest)) if latest else today
    reread = anchor - timedelta(days=max(1, reread_days) - 1)
    return max(start_date, min(resume, reread)), end


def chunks(first: date, last: date, days: int) -> list[tuple[date, date]]:
    """[first, last] cut into consecutive ranges of at most ``days`` days."""
    out = []
    start = first
    while start <= last:
        stop = min(last, start + timedelta(days=max(1, days) - 1))
        out.append((start, stop))
        start = stop + timedelta(days=1)
    return out


def days_of(first: date, last: date) -> list[str]:
    """Every day of [first, last] as ISO strings."""
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def advance(account: dict[str, Any] | None, chunk_end: date, days_with_rows: list[str]) -> dict[str, Any]:
    """The account's cursor after a committed chunk ending on ``chunk_end``."""
    out = dict(account or {})
    out["read_through"] = chunk_end.isoformat()
    latest = max(days_with_rows) if days_with_rows else None
    if latest and (not out.get("latest_day") or latest > out["latest_day"]):
        out["latest_day"] = latest
    return out


def start_date_from(setting: str | None, today: date, years_back: int) -> date:
    """ADS_START_DATE (YYYY-MM-DD) or ``years_back`` years before ``today``."""
    if setting:
        try:
            return date.fromisoformat(setting.strip())
        except ValueError:
            raise ConnectorError(f"ADS_START_DATE must look like 2024-01-01 (YYYY-MM-DD); got {setting!r}.") from None
    try:
        return today.replace(year=today.year - years_back)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years_back, day=28)
