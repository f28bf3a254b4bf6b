"""HubSpot streams: owners, pipelines (full refresh), contacts and deals (backfill, incremental
search, archived pass, periodic full id sweep). Yields :class:`Batch`es; knows no warehouse.

Order inside one ``sync("deals" | "contacts", ...)``:

1. main pass: the backfill (no cursor, or one left mid-backfill) or an incremental search;
2. archived pass: ``archived=true`` list, upserted with ``archived=true`` (search never returns
   archived records, and deleting a record in HubSpot archives it);
3. full id sweep when due: every live id (deals: with associations, whose rows are re-sent) and
   the archived ids from step 2 -> a final batch with ``Sweep`` so the loader flags hard deletes.
   A backfill that ran whole in this sync *is* the sweep (its ids are reused).

See :mod:`connectors.hubspot.cursor` for the cursor format and how to reset a stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.common import Batch, ConnectorError, ProgressFn, Row, Sweep, TableWrite
from connectors.http.concurrency import Ahead, ordered_map, prefetch
from connectors.hubspot import cursor as cur
from connectors.hubspot import defaults
from connectors.hubspot.backfill import is_split, split_backfill
from connectors.hubspot.client import (
    HISTORY_PAGE_LIMIT,
    SEARCH_RESULT_CAP,
    HubSpotClient,
    next_after,
)
from connectors.hubspot.parse import (
    association_rows,
    history_rows,
    later_ms,
    modified_ms,
    owner_row,
    parse_object,
    pipeline_rows,
    v4_association_rows,
)
from connectors.hubspot.schema import (
    CONTACT_PROPERTIES,
    DEAL_HISTORY_PROPERTIES,
    DEAL_PROPERTIES,
    MODIFIED_PROPERTY,
)
from connectors.hubspot.search_share import SearchShare
from core.epoch import aware, iso

SEARCH_PAGE_LIMIT = 200
LIST_PAGE_LIMIT = 100
BATCH_READ_LIMIT = 50  # batch/read with history: keep to the history page cap
V4_BATCH_LIMIT = 100
PROPERTIES = {"contacts": CONTACT_PROPERTIES, "deals": DEAL_PROPERTIES}
ARCHIVED_PAGES_AHEAD = 20  # archived list pages fetched ahead while the main pass runs (memory bound)


@dataclass
class _Run:
    """Counters and collected ids of one ``sync`` call."""

    stream: str
    pages: int = 0
    records: int = 0
    live_ids: set[str] = field(default_factory=set)
    archived_ids: set[str] = field(default_factory=set)


@dataclass
class _Pending:
    """Objects read but not yet emitted, and the pages they came from."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    pages: int = 0

    def take(self) -> tuple[list[dict[str, Any]], int]:
        objects, pages = self.objects, self.pages
        self.objects, self.pages = [], 0
        return objects, pages


class HubSpotSource:
    """Reads the HubSpot CRM through a :class:`HubSpotClient` and yields loader batches.

    ``overlap_minutes``: incremental searches start this long before the cursor (search is
    eventually consistent). ``full_sweep_every_hours``: how often every id is listed to catch
    hard deletes and association-only changes. ``batch_size``: ~records per batch.
    ``split_backfill_min_records``: a backfill of a stream with at least this many live records
    reads from both ends at once (:mod:`connectors.hubspot.backfill`) when the client allows more
    than one request in flight; 0 splits every backfill, None never. ``split_search_limit``:
    records per search page of a split backfill's search part (HubSpot allows 200).
    """

    STREAMS = ("owners", "pipelines", "contacts", "deals")

    def __init__(
        self,
        client: HubSpotClient,
        *,
        overlap_minutes: int = defaults.OVERLAP_MINUTES,
        full_sweep_every_hours: float = defaults.FULL_SWEEP_HOURS,
        batch_size: int = defaults.BATCH_SIZE,
        progress: ProgressFn | None = None,
        split_backfill_min_records: int | None = defaults.SPLIT_BACKFILL_MIN_RECORDS,
        split_search_limit: int = SEARCH_PAGE_LIMIT,
        split_list_reads_history: bool = True,
    ) -> None:
        self.client = client
        self.overlap_ms = int(overlap_minutes * 60_000)
        self.full_sweep_every_hours = full_sweep_every_hours
        self.batch_size = max(1, batch_size)
        self.progress: ProgressFn = progress or client.progress
        # batch reads of one batch run together, up to the client's bound on requests in flight
        self.max_concurrency = int(getattr(client, "max_concurrency", 1) or 1)
        self.split_backfill_min_records = split_backfill_min_records
        self.split_search_limit = max(1, min(SEARCH_PAGE_LIMIT, split_search_limit))
        self.split_list_reads_history = split_list_reads_history
        # the split backfills' shares of the search limit
        self.search_share = SearchShare(getattr(client, "search_slots_free", lambda: None))

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """A list's pages, the next one requested while this one is parsed and written.

        The cursor is opaque, so one list is one chain of requests; concurrency comes from the
        streams running together and from the batch reads (:func:`ordered_map`).
        """
        pages = self.client.iter_list_pages(path, params)
        return prefetch(pages, 1) if self.max_concurrency > 1 else pages

    # ------------------------------------------------------------------ public API
    def sync(self, stream: str, state: dict[str, Any] | None, *, now: datetime) -> Iterator[Batch]:
        """Yield the batches of one sync of ``stream``, each with the cursor after it."""
        now = aware(now)
        if stream == "owners":
            yield self._sync_owners(now)
        elif stream == "pipelines":
            yield self._sync_pipelines(now)
        elif stream in PROPERTIES:
            yield from self._sync_objects(stream, state, now)
        else:
            raise ConnectorError(f"Unknown HubSpot stream {stream!r}; known: {self.STREAMS}")

    def api_total(self, stream: str) -> int | None:
        """Live (non-archived) objects of ``stream`` according to the API.

        contacts/deals: ``total`` of a search with no filter and ``limit=1`` (search never counts
        archived records; it is eventually consistent, so it may lag a few moments).
        owners: live owners counted by listing them. pipelines: live pipelines in the list.
        """
        if stream in PROPERTIES:
            body = {"limit": 1, "properties": ["hs_object_id"]}
            page = self.client.post(f"/crm/v3/objects/{stream}/search", body)
            total = page.get("total")
            return int(total) if total is not None else None
        if stream == "owners":
            return sum(
                len(p.get("results") or [])
                for p in self.client.iter_list_pages("/crm/v3/owners", {"limit": LIST_PAGE_LIMIT, "archived": "false"})
            )
        if stream == "pipelines":
            results = self.client.get("/crm/v3/pipelines/deals").get("results") or []
            return sum(1 for p in results if not p.get("archived"))
        raise ConnectorError(f"Unknown HubSpot stream {stream!r}; known: {self.STREAMS}")

    # ------------------------------------------------------------------ full refresh
    def _sync_owners(self, now: datetime) -> Batch:
        rows: dict[str, Row] = {}
        run = _Run("owners")
        for archived in ("false", "true"):
            params = {"limit": LIST_PAGE_LIMIT, "archived": archived}
            for page in self.client.iter_list_pages("/crm/v3/owners", params):
                for obj in page.get("results") or []:
                    row = owner_row(obj)
                    if archived == "true":
                        row["archived"] = True
                    rows[row["id"]] = row
                self._page_read(run, "full", len(page.get("results") or []))
        return Batch(
            stream="owners",
            writes=[TableWrite("owners", list(rows.values()), replace_all=True)],
            cursor={"version": cur.CURSOR_VERSION, "last_sync_at": iso(now)},
            stats=self._stats(run, "full", run.pages, len(rows)),
        )

    def _sync_pipelines(self, now: datetime) -> Batch:
        run = _Run("pipelines")
        results = self.client.get("/crm/v3/pipelines/deals").get("results") or []
        self._page_read(run, "full", len(results))
        pipelines: list[Row] = []
        stages: list[Row] = []
        for obj in results:
            pipeline, pipeline_stages = pipeline_rows(obj)
            pipelines.append(pipeline)
            stages.extend(pipeline_stages)
        return Batch(
            stream="pipelines",
            writes=[
                TableWrite("pipelines", pipelines, replace_all=True),
                TableWrite("pipeline_stages", stages, replace_all=True),
            ],
            cursor={"version": cur.CURSOR_VERSION, "last_sync_at": iso(now)},
            stats=self._stats(run, "full", 1, len(pipelines) + len(stages)),
        )

    # ------------------------------------------------------------------ contacts / deals
    def _sync_objects(self, stream: str, state: dict[str, Any] | None, now: datetime) -> Iterator[Batch]:
        st = cur.load_state(state, stream, now)
        run = _Run(stream)
        # a backfill from the very start (neither end resumed) lists every live id
        whole_backfill = st["phase"] == "backfill" and st["backfill_after"] is None and not is_split(st)
        # the archived pass is committed after the main pass (a record archived meanwhile must end
        # up archived) but, when requests may overlap, fetched while the main pass runs
        params = self._list_params(stream, archived=True)
        pages: Iterable[dict[str, Any]]
        if self.max_concurrency > 1:
            pages = Ahead(self.client.iter_list_pages(f"/crm/v3/objects/{stream}", params), ARCHIVED_PAGES_AHEAD)
        else:
            pages = self.client.iter_list_pages(f"/crm/v3/objects/{stream}", params)
        try:
            if st["phase"] == "backfill":
                yield from self._backfill(stream, st, run)
            else:
                yield from self._incremental(stream, st, run)
            yield from self._archived(stream, st, run, pages)
        finally:
            if isinstance(pages, Ahead):
                pages.close()
        if whole_backfill:
            # every live id was listed by this backfill: it doubles as the sweep
            yield self._sweep_batch(stream, st, run, now)
        elif cur.sweep_due(st, now, self.full_sweep_every_hours):
            yield from self._sweep(stream, st, run, now)

    def _list_params(self, stream: str, *, archived: bool) -> dict[str, Any]:
        params: dict[str, Any] = {
            "properties": ",".join(PROPERTIES[stream]),
            "archived": "true" if archived else "false",
            "limit": LIST_PAGE_LIMIT,
        }
        if stream == "deals":
            params["limit"] = HISTORY_PAGE_LIMIT
            params["propertiesWithHistory"] = ",".join(DEAL_HISTORY_PROPERTIES)
            params["associations"] = "contacts"
        return params

    def _split(self, stream: str, st: dict[str, Any]) -> bool:
        """Read this backfill from both ends? A split one under way: yes. A fresh one: when
        requests can overlap and the stream is large (one search with ``limit=1`` counts it)."""
        if is_split(st):
            return True
        threshold = self.split_backfill_min_records
        if threshold is None or self.max_concurrency < 2 or st["backfill_after"] is not None:
            return False
        return threshold <= 0 or (self.api_total(stream) or 0) >= threshold

    def _backfill(self, stream: str, st: dict[str, Any], run: _Run) -> Iterator[Batch]:
        if self._split(stream, st):
            yield from split_backfill(self, stream, st, run)
            return
        params = self._list_params(stream, archived=False)
        if st["backfill_after"]:
            params["after"] = st["backfill_after"]
        pending = _Pending()
        max_ms = st["modified_since_ms"]
        prop = MODIFIED_PROPERTY[stream]
        for page in self._pages(f"/crm/v3/objects/{stream}", params):
            objects = page.get("results") or []
            pending.objects.extend(objects)
            pending.pages += 1
            for obj in objects:
                run.live_ids.add(str(obj["id"]))
                max_ms = later_ms(max_ms, modified_ms(obj, prop))
            self._page_read(run, "backfill", len(objects))
            after = next_after(page)
            if after and len(pending.objects) < self.batch_size:
                continue
            objs, pages = pending.take()
            st["backfill_after"] = after
            st["modified_since_ms"] = max_ms
            if after is None:
                started = st["backfill_started_ms"]
                st["phase"] = "incremental"
                st["modified_since_ms"] = min(max_ms, started) if max_ms is not None else started
                st["backfill_started_ms"] = None
            writes = self._writes(stream, objs, with_children=stream == "deals")
            yield self._batch(stream, writes, st, run, "backfill", pages, len(objs))

    def _incremental(self, stream: str, st: dict[str, Any], run: _Run) -> Iterator[Batch]:
        since = int(st["modified_since_ms"]) - self.overlap_ms
        prop = MODIFIED_PROPERTY[stream]
        pending = _Pending()
        max_ms = int(st["modified_since_ms"])
        pages_before = run.pages
        for obj in self._search_changed(stream, since, run):
            pending.objects.append(obj)
            max_ms = max(max_ms, modified_ms(obj, prop) or max_ms)
            if len(pending.objects) >= self.batch_size:
                pending.pages, pages_before = run.pages - pages_before, run.pages
                yield self._incremental_batch(stream, st, run, pending, max_ms)
        if pending.objects:
            pending.pages = run.pages - pages_before
            yield self._incremental_batch(stream, st, run, pending, max_ms)

    def _incremental_batch(self, stream: str, st: dict[str, Any], run: _Run, pending: _Pending, max_ms: int) -> Batch:
        found, pages = pending.take()
        if stream == "deals":
            # search has no history and no associations: re-read the changed deals
            ids = [str(o["id"]) for o in found]
            # the history and the associations of the changed deals are read together
            objects, associations = ordered_map(
                lambda read: read(ids), [self._read_deals, self._read_associations], self.max_concurrency
            )
            writes = self._writes(stream, objects, with_children=True, v4_associations=associations)
        else:
            writes = self._writes(stream, found, with_children=False)
        st["modified_since_ms"] = max_ms
        return self._batch(stream, writes, st, run, "incremental", pages, len(found))

    def _archived(
        self, stream: str, st: dict[str, Any], run: _Run, archived_pages: Iterable[dict[str, Any]]
    ) -> Iterator[Batch]:
        """Batches of the archived list's pages (``archived=true``)."""
        pending = _Pending()
        for page in archived_pages:
            objects = page.get("results") or []
            for obj in objects:
                obj["archived"] = True  # the list only returns archived ones; be explicit
                run.archived_ids.add(str(obj["id"]))
            pending.objects.extend(objects)
            pending.pages += 1
            self._page_read(run, "archived", len(objects))
            if next_after(page) and len(pending.objects) < self.batch_size:
                continue
            objs, pages = pending.take()
            if objs:
                writes = self._writes(stream, objs, with_children=stream == "deals")
                yield self._batch(stream, writes, st, run, "archived", pages, len(objs))

    def _sweep(self, stream: str, st: dict[str, Any], run: _Run, now: datetime) -> Iterator[Batch]:
        params: dict[str, Any] = {
            "limit": LIST_PAGE_LIMIT,
            "properties": "hs_object_id",
            "archived": "false",
        }
        if stream == "deals":
            params["associations"] = "contacts"
        pending = _Pending()
        run.live_ids.clear()
        for page in self._pages(f"/crm/v3/objects/{stream}", params):
            objects = page.get("results") or []
            run.live_ids.update(str(o["id"]) for o in objects)
            self._page_read(run, "sweep", len(objects))
            if stream != "deals":
                continue
            pending.objects.extend(objects)
            pending.pages += 1
            if next_after(page) and len(pending.objects) < self.batch_size:
                continue
            objs, pages = pending.take()
            if objs:
                writes = [self._association_write(objs)]
                yield self._batch(stream, writes, st, run, "sweep", pages, len(objs))
        yield self._sweep_batch(stream, st, run, now)

    def _sweep_batch(self, stream: str, st: dict[str, Any], run: _Run, now: datetime) -> Batch:
        ids = sorted(run.live_ids | run.archived_ids, key=_id_key)
        st["last_full_sweep_at"] = iso(now)
        batch = self._batch(stream, [], st, run, "sweep", 0, 0)
        batch.sweep = Sweep(stream, "id", ids)
        batch.stats["swept_ids"] = len(ids)
        self.progress(
            f"{stream}: sweep listed {len(ids)} ids (live + archived)",
            {"stream": stream, "mode": "sweep", "swept_ids": len(ids)},
        )
        return batch

    # ------------------------------------------------------------------ search
    def _search_changed(self, stream: str, since_ms: int, run: _Run) -> Iterator[dict[str, Any]]:
        """Yield every object modified at or after ``since_ms``, each id once, oldest first.

        A query is restarted with ``GTE <last modified ms seen>`` before crossing the 10,000
        result cap; if one timestamp alone holds 10,000+ objects, that timestamp is read in
        ``hs_object_id`` ranges (:meth:`_search_one_timestamp`).
        """
        prop = MODIFIED_PROPERTY[stream]
        seen: set[str] = set()
        lower = since_ms
        while True:
            filters = [{"propertyName": prop, "operator": "GTE", "value": str(lower)}]
            last_ms, capped = lower, False
            for page, is_last in self._search_query(stream, filters, prop, run):
                for obj in page.get("results") or []:
                    last_ms = modified_ms(obj, prop) or last_ms
                    if str(obj["id"]) in seen:
                        continue
                    seen.add(str(obj["id"]))
                    yield obj
                capped = is_last and next_after(page) is not None
            if not capped:
                return
            if last_ms > lower:
                lower = last_ms  # restart at the last timestamp seen (dedupe skips repeats)
                continue
            yield from self._search_one_timestamp(stream, lower, seen, run)
            lower += 1

    def _search_one_timestamp(self, stream: str, ts_ms: int, seen: set[str], run: _Run) -> Iterator[dict[str, Any]]:
        """Every object modified exactly at ``ts_ms``, read in ascending ``hs_object_id``
        ranges restarted below the 10,000 cap."""
        prop = MODIFIED_PROPERTY[stream]
        last_id = 0
        while True:
            filters = [
                {"propertyName": prop, "operator": "EQ", "value": str(ts_ms)},
                {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)},
            ]
            capped = False
            for page, is_last in self._search_query(stream, filters, "hs_object_id", run):
                for obj in page.get("results") or []:
                    last_id = max(last_id, int(obj["id"]))
                    if str(obj["id"]) in seen:
                        continue
                    seen.add(str(obj["id"]))
                    yield obj
                capped = is_last and next_after(page) is not None
            if not capped:
                return

    def _search_query(
        self, stream: str, filters: list[dict[str, str]], sort_by: str, run: _Run
    ) -> Iterator[tuple[dict[str, Any], bool]]:
        """Yield (page, is_last_page_before_cap) of one search query."""
        body = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": sort_by, "direction": "ASCENDING"}],
            "properties": list(PROPERTIES[stream]),
            "limit": SEARCH_PAGE_LIMIT,
        }
        for page in self.client.iter_search_pages(f"/crm/v3/objects/{stream}/search", body):
            self._page_read(run, "incremental", len(page.get("results") or []))
            after = next_after(page)
            yield page, after is not None and int(after) >= SEARCH_RESULT_CAP

    # ------------------------------------------------------------------ deal children
    def _read_deals(self, ids: list[str]) -> list[dict[str, Any]]:
        """``POST /crm/v3/objects/deals/batch/read`` with history, ≤50 ids per call.

        Ids that no longer exist (archived or deleted since the search) are skipped: the
        archived pass and the sweep account for them.
        """

        def read(chunk: list[str]) -> list[dict[str, Any]]:
            body = {
                "properties": list(DEAL_PROPERTIES),
                "propertiesWithHistory": list(DEAL_HISTORY_PROPERTIES),
                "inputs": [{"id": i} for i in chunk],
            }
            return self.client.post("/crm/v3/objects/deals/batch/read", body).get("results") or []

        pages = ordered_map(read, _chunks(ids, BATCH_READ_LIMIT), self.max_concurrency)
        return [obj for page in pages for obj in page]

    def _read_associations(self, deal_ids: list[str]) -> list[Row]:
        """Deal->contact associations via ``POST /crm/v4/associations/deals/contacts/batch/read``
        (following a result's own ``paging`` through the per-deal v4 endpoint)."""

        def read(chunk: list[str]) -> list[Row]:
            body = {"inputs": [{"id": i} for i in chunk]}
            return self._association_rows(self.client.post("/crm/v4/associations/deals/contacts/batch/read", body))

        chunks = ordered_map(read, _chunks(deal_ids, V4_BATCH_LIMIT), self.max_concurrency)
        return [row for rows in chunks for row in rows]

    def _association_rows(self, page: dict[str, Any]) -> list[Row]:
        """The rows of one v4 batch-read answer, following each result's own paging."""
        rows: list[Row] = []
        for result in page.get("results") or []:
            rows.extend(v4_association_rows(result))
            after = next_after(result)
            deal_id = str((result.get("from") or {}).get("id"))
            while after:
                more = self.client.get(
                    f"/crm/v4/objects/deals/{deal_id}/associations/contacts",
                    {"after": after, "limit": 500},
                )
                for item in more.get("results") or []:
                    rows.extend(v4_association_rows({"from": {"id": deal_id}, "to": [item]}))
                after = next_after(more)
        return rows

    def _association_write(self, objects: list[dict[str, Any]]) -> TableWrite:
        """Association rows of listed deals (``associations=contacts``), replacing each deal's."""
        ids = [str(o["id"]) for o in objects]
        rows: list[Row] = []
        paged: list[str] = []
        for obj in objects:
            contacts = (obj.get("associations") or {}).get("contacts") or {}
            if next_after(contacts):
                paged.append(str(obj["id"]))  # embedded list is truncated: read it in full
            else:
                rows.extend(association_rows(str(obj["id"]), obj.get("associations")))
        if paged:
            rows.extend(self._read_associations(paged))
        return TableWrite("deal_contact_associations", rows, replace_column="deal_id", replace_ids=ids)

    def _writes(
        self,
        stream: str,
        objects: list[dict[str, Any]],
        *,
        with_children: bool,
        v4_associations: list[Row] | None = None,
    ) -> list[TableWrite]:
        """Rows of the stream's tables for ``objects`` (deals: history + associations)."""
        rows = [parse_object(o, PROPERTIES[stream]) for o in objects]
        writes = [TableWrite(stream, rows)]
        if stream != "deals" or not with_children:
            return writes
        ids = [r["id"] for r in rows]
        history: list[Row] = []
        for obj in objects:
            history.extend(history_rows(str(obj["id"]), obj.get("propertiesWithHistory"), DEAL_HISTORY_PROPERTIES))
        writes.append(TableWrite("deal_property_history", history, replace_column="deal_id", replace_ids=ids))
        if v4_associations is not None:
            # read by id (v4 batch read) for the ids searched; kept for the deals still live
            live = set(ids)
            rows_v4 = [r for r in v4_associations if str(r.get("deal_id")) in live]
            writes.append(TableWrite("deal_contact_associations", rows_v4, replace_column="deal_id", replace_ids=ids))
        else:
            writes.append(self._association_write(objects))
        return writes

    # ------------------------------------------------------------------ reporting
    def _page_read(self, run: _Run, mode: str, n: int) -> None:
        run.pages += 1
        run.records += n
        self.progress(
            f"{run.stream}: {mode} page {run.pages} ({run.records} records so far)",
            {"stream": run.stream, "mode": mode, "pages": run.pages, "records": run.records},
        )

    def _batch(
        self,
        stream: str,
        writes: list[TableWrite],
        st: dict[str, Any],
        run: _Run,
        mode: str,
        pages: int,
        records: int,
    ) -> Batch:
        return Batch(
            stream=stream,
            writes=writes,
            cursor=dict(st),
            stats=self._stats(run, mode, pages, records),
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


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _id_key(value: str) -> tuple[int, str]:
    return (0, f"{int(value):020d}") if value.isdigit() else (1, value)
