"""Drive one stream of one source into its raw schema: cursor in, batches out, report.

Source-agnostic: anything with ``sync(stream, state, now=...)`` yielding `Batch`es and
``api_total(stream)`` fits. This module holds the per-stream bookkeeping (sync log, loaded-vs-API
comparison) so the Dagster layer stays a thin wrapper.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from connectors.common import Batch, ProgressFn, no_progress
from warehouse.loader import RawLoader


class Source(Protocol):
    def sync(self, stream: str, state: dict[str, Any] | None, *, now: datetime) -> Iterator[Batch]: ...

    def api_total(self, stream: str) -> int | None: ...


@dataclass
class StreamReport:
    """What one stream's sync did, for logs and asset metadata."""

    stream: str
    batches: int = 0
    records: int = 0
    flagged_deleted: int = 0
    rows_by_table: dict[str, int] = field(default_factory=dict)
    modes: list[str] = field(default_factory=list)
    api_total: int | None = None
    warehouse_total: int | None = None
    seconds: float = 0.0

    @property
    def totals_match(self) -> bool | None:
        if self.api_total is None or self.warehouse_total is None:
            return None
        return self.api_total == self.warehouse_total

    def summary(self) -> str:
        text = (
            f"{self.stream}: {self.records} records in {self.batches} batches "
            f"({', '.join(self.modes) or 'no changes'}) in {self.seconds:.1f}s"
        )
        if self.flagged_deleted:
            text += f"; {self.flagged_deleted} flagged deleted upstream"
        if self.api_total is not None:
            verdict = "match" if self.totals_match else "MISMATCH"
            text += f"; live in API {self.api_total}, live in warehouse {self.warehouse_total} ({verdict})"
        return text


def sync_stream(
    source: Source,
    loader: RawLoader,
    stream: str,
    *,
    primary_table: str,
    sync_id: str,
    now: datetime | None = None,
    progress: ProgressFn = no_progress,
    batch_hook: Callable[[int, Batch], None] | None = None,
) -> StreamReport:
    """Sync one stream: read its cursor, write every batch atomically, compare totals.

    ``batch_hook(i, batch)`` runs before batch ``i`` is written (tests inject crashes there).
    """
    now = now or datetime.now(UTC)
    started = time.monotonic()
    report = StreamReport(stream=stream)
    state = loader.read_cursor(stream)
    status = "failed"
    try:
        for i, batch in enumerate(source.sync(stream, state, now=now)):
            if batch_hook is not None:
                batch_hook(i, batch)
            counts = loader.write_batch(batch, sync_id)
            report.batches += 1
            report.records += counts.rows_written
            report.flagged_deleted += counts.rows_flagged_deleted
            for w in batch.writes:
                report.rows_by_table[w.table] = report.rows_by_table.get(w.table, 0) + len(w.rows)
            mode = batch.stats.get("mode")
            if mode and mode not in report.modes:
                report.modes.append(mode)
            progress(
                f"{stream}: batch {report.batches} committed ({report.records} records so far)",
                {"stream": stream, "batches": report.batches, "records": report.records},
            )
        report.api_total = source.api_total(stream)
        if report.api_total is not None:
            live = "not coalesce(archived, false)" if "archived" in loader.tables[primary_table].columns else ""
            report.warehouse_total = loader.count_live(primary_table, live)
        status = "succeeded"
    finally:
        report.seconds = time.monotonic() - started
        loader.log_sync(
            sync_id=sync_id,
            stream=stream,
            started_at=now.replace(tzinfo=None),
            finished_at=datetime.now(UTC).replace(tzinfo=None),
            status=status,
            batches=report.batches,
            records=report.records,
            flagged_deleted=report.flagged_deleted,
            api_total=report.api_total,
            warehouse_total=report.warehouse_total,
            detail=report.summary(),
        )
    return report
