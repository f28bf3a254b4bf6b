"""Pipedrive streams: pipelines (+ stages + deal-field options) and leads (full reads), persons and
deals (incremental by ``updated_since``, archived pass, periodic full id sweep). Yields
:class:`Batch`es; knows no warehouse.

``deals``: ``/api/v2/deals`` with ``status=open,won,lost,deleted`` (a deleted deal is seen as
``is_deleted``), ``include_fields=source_lead_id``, sorted by ``update_time``; each batch carries
the flows (``/v1/deals/{id}/flow?items=dealChange``, paged) of its non-deleted deals and the
cursor ``updated_since`` = the newest ``update_time`` in it, so a crash between batches resumes
there (the bound is inclusive: the boundary deal is re-read and upserted, never duplicated).
A deal whose flow answers 404 (deleted since) is skipped. Then ``/api/v2/deals/archived`` (no
flows: archived deals never reach a mart), then, when due, a sweep of every listed id so the
loader flags hard deletes.

Cursor (version 1) of persons/deals: ``{"version": 1, "updated_since": "2025-01-01T10:20:00Z" |
None, "archived_updated_since": … (the deals' archived pass), "last_full_sweep_at": iso | None}``.
Resetting = deleting it (the next sync reads all).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.common import Batch, ConnectorError, ProgressFn, Row, Sweep, TableWrite, sweep_due
from connectors.http.concurrency import ordered_map
from connectors.pipedrive import defaults
from connectors.pipedrive.client import NotFound, PipedriveClient
from connectors.pipedrive.parse import (
    deal_row,
    field_option_rows,
    flow_rows,
    lead_row,
    parse_time,
    person_row,
    pipeline_row,
    rfc3339,
    stage_row,
)
from core.epoch import aware, iso

CURSOR_VERSION = 1
DEAL_STATUSES = "open,won,lost,deleted"


@dataclass
class _Run:
    stream: str
    pages: int = 0
    records: int = 0
    ids: set[str] = field(default_factory=set)


class PipedriveSource:
    """Reads Pipedrive through a :class:`PipedriveClient` and yields loader batches."""

    STREAMS = ("pipelines", "persons", "leads", "deals")

    def __init__(
        self,
        client: PipedriveClient,
        *,
        overlap_seconds: int = defaults.OVERLAP_SECONDS,
        full_sweep_every_hours: float = defaults.FULL_SWEEP_HOURS,
        batch_size: int = defaults.BATCH_SIZE,
        progress: ProgressFn | None = None,
    ) -> None:
        self.client = client
        self.overlap = timedelta(seconds=overlap_seconds)
        self.full_sweep_every_hours = full_sweep_every_hours
        self.batch_size = max(1, batch_size)
        self.progress: ProgressFn = progress or client.progress

    def sync(self, stream: str, state: dict[str, Any] | None, *, now: datetime) -> Iterator[Batch]:
        now = aware(now)
        if stream == "pipelines":
            yield self._sync_pipelines(now)
        elif stream == "leads":
            yield from self._sync_leads(now)
        elif stream in ("persons", "deals"):
            yield from self._sync_incremental(stream, _load(state, stream), now)
        else:
            raise ConnectorError(f"Unknown Pipedrive stream {stream!r}; known: {self.STREAMS}")

    def api_total(self, stream: str) -> int | None:  # noqa: ARG002
        """Pipedrive has no cheap count endpoint; the totals check is skipped."""
        return None

    # ------------------------------------------------------------------ full reads
    def _sync_pipelines(self, now: datetime) -> Batch:
        run = _Run("pipelines")
        pipelines = [pipeline_row(o) for o in self._read_v2(run, "/api/v2/pipelines")]
        stages = [stage_row(o) for o in self._read_v2(run, "/api/v2/stages")]
        options = [r for f in self._read_v2(run, "/api/v2/dealFields") for r in field_option_rows(f)]
        return Batch(
            stream="pipelines",
            writes=[
                TableWrite("pipelines", pipelines, replace_all=True),
                TableWrite("stages", stages, replace_all=True),
                TableWrite("deal_field_options", options, replace_all=True),
            ],
            cursor={"version": CURSOR_VERSION, "last_sync_at": iso(now)},
            stats=self._stats(run, "full", run.pages, len(pipelines) + len(stages) + len(options)),
        )

    def _sync_leads(self, now: datetime) -> Iterator[Batch]:
        """Both lead lists in full: converted leads disappear from them, so the sweep of this
        read is what excludes them."""
        run = _Run("leads")
        cursor = {"version": CURSOR_VERSION, "last_sync_at": iso(now)}
        for path in (f"{self.client.v1}/leads", f"{self.client.v1}/leads/archived"):
            rows: list[Row] = []
            for page in self.client.iter_v1(path, {"sort": "update_time ASC"}):
                items = page.get("data") or []
                rows.extend(lead_row(o) for o in items)
                self._page_read(run, "full", len(items))
                if len(rows) >= self.batch_size:
                    run.ids.update(r["id"] for r in rows)
                    yield Batch(
                        "leads", [TableWrite("leads", rows)], None, stats=self._stats(run, "full", 0, len(rows))
                    )
                    rows = []
            run.ids.update(r["id"] for r in rows)
            if rows:
                yield Batch("leads", [TableWrite("leads", rows)], None, stats=self._stats(run, "full", 0, len(rows)))
        yield self._sweep_batch("leads", cursor, run)

    # ------------------------------------------------------------------ persons / deals
    def _sync_incremental(self, stream: str, st: dict[str, Any], now: datetime) -> Iterator[Batch]:
        run = _Run(stream)
        whole = st["updated_since"] is None
        params: dict[str, Any] = {"sort_by": "update_time", "sort_direction": "asc"}
        if stream == "deals":
            params.update(status=DEAL_STATUSES, include_fields="source_lead_id")
        mode = "backfill" if whole else "incremental"
        main = self._since(params, st, "updated_since")
        yield from self._pass(
            stream, f"/api/v2/{stream}", main, st, run, mode, "updated_since", with_flow=stream == "deals"
        )
        if stream == "deals":
            archived = self._since({k: v for k, v in params.items() if k != "status"}, st, "archived_updated_since")
            yield from self._pass(
                stream,
                "/api/v2/deals/archived",
                archived,
                st,
                run,
                "archived",
                "archived_updated_since",
                with_flow=False,
            )
        if whole:
            st["last_full_sweep_at"] = iso(now)
            yield self._sweep_batch(stream, dict(st), run)
        elif sweep_due(st, now, self.full_sweep_every_hours):
            yield from self._sweep(stream, st, now)

    def _since(self, params: dict[str, Any], st: dict[str, Any], key: str) -> dict[str, Any]:
        """``params`` plus ``updated_since`` = the pass's cursor minus the overlap (if any)."""
        since = parse_time(st.get(key))
        if since is None:
            return dict(params)
        return {**params, "updated_since": rfc3339(since - self.overlap)}

    def _pass(
        self,
        stream: str,
        path: str,
        params: dict[str, Any],
        st: dict[str, Any],
        run: _Run,
        mode: str,
        key: str,
        *,
        with_flow: bool,
    ) -> Iterator[Batch]:
        """One read sorted by ``update_time``; each batch advances ``st[key]`` to its newest time."""
        pending: list[dict[str, Any]] = []
        pages = 0
        parse = deal_row if stream == "deals" else person_row
        for page in self.client.iter_v2(path, params):
            items = page.get("data") or []
            pending.extend(items)
            pages += 1
            self._page_read(run, mode, len(items))
            last = not (page.get("additional_data") or {}).get("next_cursor")
            # sorted by update_time: a batch may end mid-page, its newest time is a safe cursor
            while len(pending) >= self.batch_size or (last and pending):
                chunk, pending = pending[: self.batch_size], pending[self.batch_size :]
                rows = [parse(o) for o in chunk]
                run.ids.update(r["id"] for r in rows)
                times = [(t, r["update_time"]) for r in rows if (t := parse_time(r["update_time"])) is not None]
                newest = max(times, key=lambda pair: pair[0], default=None)
                current = parse_time(st.get(key))
                if newest is not None and (current is None or newest[0] > current):
                    st[key] = newest[1]
                writes = [TableWrite(stream, rows)]
                if with_flow:
                    writes.append(self._flows([r for r in rows if not r["is_deleted"]], run))
                yield Batch(stream, writes, dict(st), stats=self._stats(run, mode, pages, len(rows)))
                pages = 0

    def _flows(self, deals: list[Row], run: _Run) -> TableWrite:
        """Every dealChange of each deal's flow; deals whose flow is gone (404) are skipped.

        One request chain per deal: the flows of a batch are read together, up to the client's
        bound on requests in flight, and kept in the deals' order.
        """

        def flow(deal: Row) -> list[Row] | None:
            items: list[Row] = []
            try:
                for page in self.client.iter_v1(
                    f"{self.client.v1}/deals/{deal['id']}/flow", {"items": "dealChange", "all_changes": 1}
                ):
                    items.extend(flow_rows(deal["id"], page.get("data") or []))
            except NotFound:
                self.progress(
                    f"deals: flow of deal {deal['id']} is gone (404, deleted since); skipped",
                    {"stream": "deals", "deal_id": deal["id"]},
                )
                return None
            return items

        rows: list[Row] = []
        read: list[str] = []
        workers = int(getattr(self.client, "max_concurrency", 1) or 1)
        for deal, items in zip(deals, ordered_map(flow, deals, workers), strict=True):
            if items is not None:
                rows.extend(items)
                read.append(deal["id"])
        self.progress(
            f"deals: read the flow of {len(read)} deals ({len(rows)} changes)",
            {"stream": run.stream, "flows": len(read), "changes": len(rows)},
        )
        return TableWrite("deal_flow", rows, replace_column="deal_id", replace_ids=read)

    def _sweep(self, stream: str, st: dict[str, Any], now: datetime) -> Iterator[Batch]:
        run = _Run(stream)
        lists = [("/api/v2/deals", {"status": DEAL_STATUSES}), ("/api/v2/deals/archived", {})]
        for path, params in lists if stream == "deals" else [("/api/v2/persons", {})]:
            for page in self.client.iter_v2(path, params):
                items = page.get("data") or []
                run.ids.update(str(o["id"]) for o in items)
                self._page_read(run, "sweep", len(items))
        st["last_full_sweep_at"] = iso(now)
        yield self._sweep_batch(stream, dict(st), run)

    def _sweep_batch(self, stream: str, cursor: dict[str, Any], run: _Run) -> Batch:
        ids = sorted(run.ids)
        batch = Batch(stream, [], cursor, sweep=Sweep(stream, "id", ids), stats=self._stats(run, "sweep", 0, 0))
        batch.stats["swept_ids"] = len(ids)
        self.progress(f"{stream}: sweep listed {len(ids)} ids", {"stream": stream, "swept_ids": len(ids)})
        return batch

    # ------------------------------------------------------------------ helpers
    def _read_v2(self, run: _Run, path: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for page in self.client.iter_v2(path):
            items = page.get("data") or []
            out.extend(items)
            self._page_read(run, "full", len(items))
        return out

    def _page_read(self, run: _Run, mode: str, n: int) -> None:
        run.pages += 1
        run.records += n
        self.progress(
            f"{run.stream}: {mode} page {run.pages} ({run.records} records so far)",
            {"stream": run.stream, "mode": mode, "pages": run.pages, "records": run.records},
        )

    def _stats(self, run: _Run, mode: str, pages: int, records: int) -> dict[str, Any]:
        return {
            "mode": mode,
            "pages": pages,
            "records": records,
            "stream_pages": run.pages,
            "stream_records": run.records,
            "api_requests": int(self.client.stats["requests"]),
        }


def _load(state: dict[str, Any] | None, stream: str) -> dict[str, Any]:
    fresh = {
        "version": CURSOR_VERSION,
        "updated_since": None,
        "archived_updated_since": None,
        "last_full_sweep_at": None,
    }
    if not state:
        return fresh
    if state.get("version") != CURSOR_VERSION or "updated_since" not in state:
        raise ConnectorError(
            f"pipedrive {stream}: stored cursor has an unknown format. Run `make reset-cursors SOURCE=pipedrive` "
            "(or delete this stream's cursor) to read it in full."
        )
    return {**fresh, **state}
