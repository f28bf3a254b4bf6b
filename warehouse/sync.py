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
from connectors.http.concurrency import StreamFailed, merge_ordered
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
    error: BaseException | None = None
    """Why the stream's fetch failed (its committed batches stay); None when it succeeded."""

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
    prefetch_batches: int = 1,
) -> StreamReport:
    """Sync one stream: read its cursor, write every batch atomically, compare totals.

    The source runs ``prefetch_batches`` batches ahead in a fetch thread (0: in this thread);
    this thread is the one writer and commits the batches in the source's order.
    ``batch_hook(i, batch)`` runs before batch ``i`` is written (tests inject crashes there).
    """
    reports = sync_streams(
        source,
        loader,
        {stream: primary_table},
        sync_id=sync_id,
        now=now,
        progress=progress,
        batch_hook=(lambda _stream, i, batch: batch_hook(i, batch)) if batch_hook else None,
        prefetch_batches=prefetch_batches,
    )
    return reports[stream]


def sync_streams(
    source: Source,
    loader: RawLoader,
    streams: dict[str, str],
    *,
    sync_id: str,
    now: datetime | None = None,
    progress: ProgressFn = no_progress,
    batch_hook: Callable[[str, int, Batch], None] | None = None,
    prefetch_batches: int = 1,
    raise_on_failure: bool = True,
    concurrent: bool = True,
) -> dict[str, StreamReport]:
    """Sync several streams of one source together (``{stream: primary table}``).

    Each stream is fetched in its own thread (its requests share the source client's limiter
    and in-flight bound); this thread is the single writer: it commits each stream's batches
    in that stream's order, each with its cursor in one transaction, interleaving streams as
    their batches arrive. A stream whose fetch fails is logged ``failed`` after its committed
    batches, the others finish, then the first failure is raised (``raise_on_failure=False``:
    the reports are returned, each failed one with its ``error``). A failure while writing (or
    in ``batch_hook(stream, i, batch)``) stops every stream at once and is always raised.
    ``concurrent=False``: the streams are fetched one after another (a client not built for
    threads), with the same bookkeeping.
    """
    now = now or datetime.now(UTC)
    writers = {
        stream: _StreamWriter(loader, stream, primary, sync_id, now, progress) for stream, primary in streams.items()
    }
    states = {stream: loader.read_cursor(stream) for stream in streams}

    def fetch(stream: str) -> Iterator[Batch | _Total]:
        yield from source.sync(stream, states[stream], now=now)
        yield _Total(source.api_total(stream))

    failures: list[BaseException] = []
    try:
        if len(streams) == 1 and prefetch_batches < 1:
            (stream,) = streams
            events: Iterator[tuple[str, Any]] = ((stream, item) for item in fetch(stream))
        elif concurrent:
            events = merge_ordered({s: fetch(s) for s in streams}, depth=max(1, prefetch_batches))
        else:
            events = _one_after_another({s: fetch(s) for s in streams}, max(1, prefetch_batches))
        for stream, item in events:
            writer = writers[stream]
            if isinstance(item, StreamFailed):
                failures.append(item.error)
                writer.report.error = item.error
                writer.finish("failed")
            elif isinstance(item, _Total):
                writer.totals(item.api_total)
                writer.finish("succeeded")
            else:
                if batch_hook is not None:
                    batch_hook(stream, writer.report.batches, item)
                writer.write(item)
        # a backfill into empty tables inserted without their delete indexes: build them now
        loader.build_indexes({table for w in writers.values() for table in w.report.rows_by_table})
    finally:
        for writer in writers.values():
            writer.finish("failed")  # no-op for the streams that finished
    if failures and raise_on_failure:
        raise failures[0]
    return {stream: w.report for stream, w in writers.items()}


def _one_after_another(iterators: dict[str, Iterator[Any]], depth: int) -> Iterator[tuple[str, Any]]:
    """:func:`merge_ordered` of one stream at a time."""
    for name, it in iterators.items():
        events = merge_ordered({name: it}, depth=depth)
        try:
            yield from events
        finally:
            events.close()


@dataclass
class _Total:
    """A stream's last event: the API's live total (fetched in the stream's thread)."""

    api_total: int | None


class _StreamWriter:
    """The bookkeeping of one stream on the writer thread: batches, report, sync log."""

    def __init__(
        self, loader: RawLoader, stream: str, primary: str, sync_id: str, now: datetime, progress: ProgressFn
    ) -> None:
        self.loader, self.primary, self.sync_id, self.now, self.progress = loader, primary, sync_id, now, progress
        self.report = StreamReport(stream=stream)
        self.started = time.monotonic()
        self.done = False

    def write(self, batch: Batch) -> None:
        report = self.report
        counts = self.loader.write_batch(batch, self.sync_id)
        report.batches += 1
        report.records += counts.rows_written
        report.flagged_deleted += counts.rows_flagged_deleted
        for w in batch.writes:
            report.rows_by_table[w.table] = report.rows_by_table.get(w.table, 0) + len(w.rows)
        mode = batch.stats.get("mode")
        if mode and mode not in report.modes:
            report.modes.append(mode)
        self.progress(
            f"{report.stream}: batch {report.batches} committed ({report.records} records so far)",
            {"stream": report.stream, "batches": report.batches, "records": report.records},
        )

    def totals(self, api_total: int | None) -> None:
        self.report.api_total = api_total
        if api_total is not None:
            table = self.loader.tables[self.primary]
            live = "not coalesce(archived, false)" if "archived" in table.columns else ""
            self.report.warehouse_total = self.loader.count_live(self.primary, live)

    def finish(self, status: str) -> None:
        if self.done:
            return
        self.done = True
        report = self.report
        report.seconds = time.monotonic() - self.started
        self.loader.log_sync(
            sync_id=self.sync_id,
            stream=report.stream,
            started_at=self.now.replace(tzinfo=None),
            finished_at=datetime.now(UTC).replace(tzinfo=None),
            status=status,
            batches=report.batches,
            records=report.records,
            flagged_deleted=report.flagged_deleted,
            api_total=report.api_total,
            warehouse_total=report.warehouse_total,
            detail=report.summary(),
        )
