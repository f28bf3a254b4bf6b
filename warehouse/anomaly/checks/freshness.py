"""`raw_load_freshness`: the newest raw load of every configured source vs the wall clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import duckdb

from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec, outcome, r
from warehouse.anomaly.thresholds import FRESHNESS_MAX_AGE
from warehouse.db import fetch_one


def now_utc() -> datetime:
    """The wall clock (UTC, naive like `_loaded_at`); only raw_load_freshness reads it."""
    return datetime.now(UTC).replace(tzinfo=None)


def newest_loads(con: duckdb.DuckDBPyConnection) -> dict[str, datetime | None]:
    """{raw schema: newest `_loaded_at` over its tables (None: nothing loaded)}."""
    tables = con.execute(
        "select c.table_schema, c.table_name from information_schema.columns c where c.column_name = '_loaded_at' "
        "and c.table_schema like 'raw\\_%' escape '\\' and c.table_name not like '\\_%' escape '\\' order by 1, 2"
    ).fetchall()
    newest: dict[str, datetime | None] = {}
    for schema, table in tables:
        (loaded,) = fetch_one(con, f'select max(_loaded_at) from "{schema}"."{table}"')
        current = newest.get(schema)
        if loaded is not None and (current is None or loaded > current):
            newest[schema] = loaded
        newest.setdefault(schema, None)
    return newest


def judge_freshness(newest: dict[str, datetime | None], now: datetime) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Findings per raw schema and the stale ones (pure)."""
    findings: dict[str, dict[str, Any]] = {}
    flagged: list[str] = []
    for schema, loaded in sorted(newest.items()):
        if loaded is None:
            findings[schema] = {"flagged": False, "note": "nothing loaded (source not configured)"}
            continue
        age = now - loaded
        flag = age > FRESHNESS_MAX_AGE
        findings[schema] = {
            "newest_load": loaded.isoformat(timespec="seconds"),
            "age_hours": r(age.total_seconds() / 3600, 1),
            "max_age_hours": FRESHNESS_MAX_AGE.total_seconds() / 3600,
            "flagged": flag,
        }
        if flag:
            flagged.append(schema)
    return findings, flagged


def raw_load_freshness(con: duckdb.DuckDBPyConnection, as_of_date: date) -> CheckOutcome:  # noqa: ARG001
    """Newest `_loaded_at` of every raw_<source> schema vs the wall clock (the one check that
    reads the clock: freshness is about now, not about as_of_date)."""
    now = now_utc()
    findings, flagged = judge_freshness(newest_loads(con), now)
    headline = "; ".join(
        f"{s}: newest load {findings[s]['newest_load']} UTC, {findings[s]['age_hours']} h ago" for s in flagged
    )
    return outcome(SPEC, findings, flagged, headline, checked_at=now.isoformat(timespec="seconds"))


SPEC = CheckSpec(
    "raw_load_freshness",
    "raw_hubspot.deals",
    "WARN",
    f"Newest raw load of every configured source vs the wall clock (stale after {FRESHNESS_MAX_AGE.total_seconds() / 3600:g} h).",
    raw_load_freshness,
)
