"""What every connector hands to the loader: record batches with their cursor.

A connector knows one API's contract and nothing of the warehouse. It describes its raw tables
(`TableSchema`) and yields `Batch`es; the loader writes each batch *and* its cursor in one
transaction, so a crash between batches neither loses nor duplicates rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class TableSchema:
    """A raw table: its columns (name -> DuckDB type) and primary key.

    Raw columns mirror the API: values stay strings where the API sends strings.
    The loader adds its own metadata columns (``_loaded_at``, ``_sync_id``, ``_is_deleted``).
    """

    name: str
    columns: dict[str, str]
    key: tuple[str, ...]
    description: str = ""


@dataclass
class TableWrite:
    """Rows for one raw table.

    Default: upsert by the table's key (existing rows with the same key are replaced).
    With ``replace_column``/``replace_ids``: every existing row whose ``replace_column`` is in
    ``replace_ids`` is deleted first (child rows such as a deal's history or associations, which
    are re-sent whole with their parent). With ``replace_all``: the table is replaced whole
    (small dimension lists such as pipelines).
    """

    table: str
    rows: list[Row]
    replace_column: str | None = None
    replace_ids: list[str] | None = None
    replace_all: bool = False


@dataclass
class Sweep:
    """Result of a full id sweep: every id the API still lists (live or archived).

    Rows of ``table`` whose ``key_column`` is not in ``live_ids`` are flagged ``_is_deleted``
    (hard-deleted upstream); they are never physically removed.
    """

    table: str
    key_column: str
    live_ids: list[str]


@dataclass
class Batch:
    """One unit of work for the loader: table writes plus the stream's next cursor.

    ``cursor`` is the stream's state *after* this batch is committed (None: keep the stored
    one). ``stats`` carries counters for progress reporting (pages, records, api_total, ...).
    """

    stream: str
    writes: list[TableWrite] = field(default_factory=list)
    cursor: dict[str, Any] | None = None
    sweep: Sweep | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def record_count(self) -> int:
        return sum(len(w.rows) for w in self.writes)


# Progress callback: (message, structured counters) -> None. Connectors call it per page.
ProgressFn = Callable[[str, dict[str, Any]], None]


def no_progress(message: str, counters: dict[str, Any]) -> None:
    """Default progress sink: discard."""


class ConnectorError(Exception):
    """A connector failed; the message says what to do next and never contains a secret."""


class AuthError(ConnectorError):
    """401/403: the credentials are missing, wrong or lack a scope. Not retried."""


class RateLimitExhausted(ConnectorError):
    """Retries on 429 ran out."""


def sweep_due(state: dict[str, Any], now: datetime, every_hours: float) -> bool:
    """True when no full id sweep ran within ``every_hours`` before ``now``."""
    last = state.get("last_full_sweep_at")
    if not last:
        return True
    last_dt = datetime.fromisoformat(last)
    if last_dt.tzinfo is None:
        last_dt = last_dt.replace(tzinfo=UTC)
    return now - last_dt >= timedelta(hours=every_hours)
