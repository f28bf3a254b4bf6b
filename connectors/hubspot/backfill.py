"""The split backfill of contacts and deals: the list from the lowest id up and a search from the
highest id down, run together until they meet.

A list follows an opaque cursor, so one list is one chain of requests. To have more requests in
flight, a large backfill (``split_min_records`` live records or more, by a one-result search) is
read from both ends at once:

* **up**: the list (``GET /crm/v3/objects/{t}``), as the plain backfill reads it, except that
  deals are listed 100 per page without history (the history cap is 50) and their history is read
  by two parallel ``batch/read`` calls beside the next page: one more call per 100 deals, for a
  chain that moves twice as fast. It stops once its highest id reaches the lowest id the search
  has read. It stops early only while the ids it
  returns are ascending, as HubSpot's and the emulator's are (the cursor is the next id); if they
  are not, it reads to the end, which is correct, only slower;
* **down**: search sorted by ``hs_object_id`` descending, keyset-paged (``hs_object_id LT`` the
  lowest id read, ``after`` never used, so the 10,000-result cap never applies and records
  archived meanwhile cannot shift a page); search has its own rate limit (5/s at HubSpot), apart
  from the ten-secondly one. Deals found there are re-read with ``batch/read`` (history, 50 ids)
  and v4 association batch reads (100 ids) in parallel, as the incremental sync reads them;
  contacts need nothing more than the search page.

**Sharing the search budget.** Both streams' search parts draw on the account's one search limit.
A contacts search page needs nothing more; a deals page needs six ordinary batch reads, which the
ten-secondly limit serves in parallel. Contacts alone at the end of a backfill are bound by one
list chain and the search limit and leave the ten-secondly ceiling idle; deals alone at the end
still fill it. So while the contacts backfill has more of its id range left to read than the
deals backfill (each one's share of the id range this run started with), a deals search waits
until the search limiter has a slot to spare beyond the one the contacts chain takes next: deals
get what contacts leave (:class:`connectors.hubspot.search_share.SearchShare`; see docs/decisions.md).

Each part's records are committed in batches in that part's order, and every batch carries the
whole cursor: ``backfill_after``/``backfill_last_id`` (the list has committed every id up to
``backfill_last_id``) and ``backfill_below`` (the search has committed every live id at or above
it). A crash resumes both parts from there; the backfill is complete when the two ranges touch
(``backfill_below <= backfill_last_id + 1``), when the list ends, or when the search finds nothing
more below. Records changed or created while it runs are picked up by the next incremental sync,
as after the plain backfill.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectors.common import Batch, ConnectorError, Row
from connectors.http.concurrency import StreamFailed, merge_ordered, prefetch
from connectors.hubspot.client import next_after
from connectors.hubspot.parse import later_ms, modified_ms
from connectors.hubspot.schema import MODIFIED_PROPERTY

LIST_PAGE_LIMIT = 100  # a list page without history
HISTORY_READS_AHEAD = 2  # list pages of deals whose history reads run at once

if TYPE_CHECKING:
    from connectors.hubspot.source import HubSpotSource, _Run


@dataclass
class _Meet:
    """Where the two parts have read to (any thread): the list's highest id, the search's lowest."""

    list_max: int = -1
    search_min: int | None = None
    ordered: bool = True
    lo: int | None = None  # the lowest id the list read in this run
    hi: int | None = None  # the highest id the search read in this run

    def remaining(self) -> float:
        """The share of this run's id range left to read (1.0 until both parts have read a page)."""
        if self.lo is None or self.hi is None or self.search_min is None or self.hi <= self.lo:
            return 1.0
        return max(0.0, min(1.0, (self.search_min - self.list_max) / (self.hi - self.lo)))


@dataclass
class _Part:
    """What one part read and has not yet emitted."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    associations: list[Row] = field(default_factory=list)
    pages: int = 0
    after: str | None = None  # list: the cursor of the next page
    last_id: int | None = None  # list: highest id read
    lowest: int | None = None  # search: lowest id read
    exhausted: bool = False


@dataclass
class _ListPage:
    objects: list[dict[str, Any]]
    after: str | None
    last_id: int | None  # the page's highest id


@dataclass
class _SearchPage:
    objects: list[dict[str, Any]]
    associations: list[Row] | None
    lowest: int | None  # None: nothing left below (the search part is exhausted)


class _End:
    """A part's last item."""


def is_split(st: dict[str, Any]) -> bool:
    """True when a backfill under way is a split one (either part has committed a batch)."""
    return st.get("backfill_below") is not None or st.get("backfill_last_id") is not None


def complete(st: dict[str, Any]) -> bool:
    """The list's committed range and the search's touch: every live id is committed."""
    below = st.get("backfill_below")
    if below is None:
        return False
    last = st.get("backfill_last_id")
    return int(below) <= (int(last) if last is not None else -1) + 1


def split_backfill(src: HubSpotSource, stream: str, st: dict[str, Any], run: _Run) -> Iterator[Batch]:
    """Yield the batches of a split backfill (see the module doc), resuming from ``st``."""
    meet = _Meet(list_max=int(st["backfill_last_id"]) if st["backfill_last_id"] is not None else -1)
    if st["backfill_below"] is not None:
        meet.search_min = int(st["backfill_below"])
    parts: dict[str, Iterable[Any]] = {
        "list": _tagged(_list_up(src, stream, st, meet, run)),
        "search": _tagged(_search_down(src, stream, st, meet, run)),
    }
    pending = {"list": _Part(), "search": _Part()}
    prop = MODIFIED_PROPERTY[stream]
    events = merge_ordered(parts, depth=2)
    try:
        yield from _batches(src, stream, st, run, events, pending, prop)
    finally:
        events.close()  # stops the other part when the two have met
    if st["phase"] != "incremental":
        raise ConnectorError(
            f"hubspot {stream}: the split backfill ended before its two parts met (list at id "
            f"{st.get('backfill_last_id')}, search at {st.get('backfill_below')}). Re-run: it resumes from there."
        )


def _batches(
    src: HubSpotSource,
    stream: str,
    st: dict[str, Any],
    run: _Run,
    events: Iterator[tuple[str, Any]],
    pending: dict[str, _Part],
    prop: str,
) -> Iterator[Batch]:
    for name, item in events:
        if isinstance(item, StreamFailed):
            raise item.error
        part = pending[name]
        if isinstance(item, _ListPage):
            part.objects.extend(item.objects)
            part.pages += 1
            part.after = item.after
            if item.last_id is not None:
                part.last_id = max(part.last_id or -1, item.last_id)
            part.exhausted = item.after is None
        elif isinstance(item, _SearchPage):
            part.objects.extend(item.objects)
            part.associations.extend(item.associations or [])
            part.pages += 1
            part.lowest = item.lowest if item.lowest is not None else 0
            part.exhausted = item.lowest is None
        ended = isinstance(item, _End)
        if not ended and not part.exhausted and len(part.objects) < src.batch_size:
            continue
        if not (part.objects or part.pages or part.exhausted):
            continue
        yield _emit(src, stream, st, run, name, part, prop)
        if st["phase"] == "incremental":
            return  # the other part's unwritten pages are covered: stop it


def _emit(src: HubSpotSource, stream: str, st: dict[str, Any], run: _Run, name: str, part: _Part, prop: str) -> Batch:
    """The batch of one part's pending records, with the whole cursor after it."""
    objects, associations, pages = part.objects, part.associations, part.pages
    part.objects, part.associations, part.pages = [], [], 0
    max_ms = st["modified_since_ms"]
    for obj in objects:
        max_ms = later_ms(max_ms, modified_ms(obj, prop))
    st["modified_since_ms"] = max_ms
    if name == "list":
        st["backfill_after"] = part.after
        if part.last_id is not None:
            st["backfill_last_id"] = str(part.last_id)
    else:
        st["backfill_below"] = str(part.lowest)
    if (name == "list" and part.exhausted) or complete(st):
        started = st["backfill_started_ms"]
        st["phase"] = "incremental"
        st["modified_since_ms"] = min(max_ms, started) if max_ms is not None else started
        st["backfill_started_ms"] = None
        st["backfill_after"] = st["backfill_last_id"] = st["backfill_below"] = None
    if stream == "deals" and name == "search":
        writes = src._writes(stream, objects, with_children=True, v4_associations=associations)
    else:
        writes = src._writes(stream, objects, with_children=stream == "deals")
    return src._batch(stream, writes, st, run, "backfill", pages, len(objects))


def _tagged(it: Iterator[Any]) -> Iterator[Any]:
    yield from it
    yield _End()


def _list_up(src: HubSpotSource, stream: str, st: dict[str, Any], meet: _Meet, run: _Run) -> Iterator[_ListPage]:
    """The list's pages from ``backfill_after`` up, until they reach the search's lowest id.

    Deals: each page's history reads run while the next pages are listed (up to
    ``HISTORY_READS_AHEAD`` pages' reads at once), so the chain moves at the pace of the list
    pages, not of the pages plus their reads."""
    read_history = stream == "deals" and src.split_list_reads_history
    pages = _listed(src, stream, st, meet, run, read_history)
    if not read_history:
        yield from pages
        return
    ahead: deque[tuple[Future[list[dict[str, Any]]] | None, _ListPage]] = deque()
    pool = ThreadPoolExecutor(max_workers=HISTORY_READS_AHEAD, thread_name_prefix="history")
    try:
        for page in pages:
            ahead.append((pool.submit(_with_history, src, page.objects) if page.objects else None, page))
            while len(ahead) > HISTORY_READS_AHEAD or (ahead and ahead[0][0] is not None and ahead[0][0].done()):
                yield _read(ahead.popleft())
        while ahead:
            yield _read(ahead.popleft())
    finally:
        pages.close()
        pool.shutdown(wait=True, cancel_futures=True)


def _read(item: tuple[Future[list[dict[str, Any]]] | None, _ListPage]) -> _ListPage:
    future, page = item
    return page if future is None else _ListPage(future.result(), page.after, page.last_id)


def _listed(
    src: HubSpotSource, stream: str, st: dict[str, Any], meet: _Meet, run: _Run, read_history: bool
) -> Generator[_ListPage, None, None]:
    """The list pages as listed (deals: 100 per page without history, see the module doc)."""
    params = src._list_params(stream, archived=False)
    if read_history:
        params.pop("propertiesWithHistory", None)
        params["limit"] = LIST_PAGE_LIMIT
    if st.get("backfill_after"):
        params["after"] = st["backfill_after"]
    pages = src._pages(f"/crm/v3/objects/{stream}", params)
    try:
        for page in pages:
            objects = page.get("results") or []
            ids = [int(o["id"]) for o in objects]
            if ids and (ids != sorted(ids) or ids[0] <= meet.list_max):
                meet.ordered = False  # not ascending: read the whole list
            for obj in objects:
                run.live_ids.add(str(obj["id"]))
            if ids:
                meet.list_max = max(meet.list_max, *ids)
                meet.lo = ids[0] if meet.lo is None else meet.lo
            src._page_read(run, "backfill", len(objects))
            after = next_after(page)
            yield _ListPage(objects, after, max(ids) if ids else None)
            if after is None:
                return
            if meet.ordered and meet.search_min is not None and meet.list_max + 1 >= meet.search_min:
                return
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()


def _search_down(src: HubSpotSource, stream: str, st: dict[str, Any], meet: _Meet, run: _Run) -> Iterator[_SearchPage]:
    """Search pages from the highest id down (keyset on ``hs_object_id``), each with its
    children read; the next search page is requested while this one's batch reads run."""
    if st.get("backfill_below") is not None and complete(st):
        return
    pages = prefetch(_search_pages(src, stream, st, meet, run), 1)
    try:
        for objects, lowest in pages:
            associations = None
            if stream == "deals" and objects:
                ids = [str(o["id"]) for o in objects]
                objects, associations = _read_children(src, ids)
            yield _SearchPage(objects, associations, lowest)
            if lowest is None or lowest <= meet.list_max + 1:
                return
    finally:
        pages.close()


def _search_pages(
    src: HubSpotSource, stream: str, st: dict[str, Any], meet: _Meet, run: _Run
) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
    """``(objects, lowest id)`` per page, descending; ``lowest`` None: nothing left below."""
    below = int(st["backfill_below"]) if st.get("backfill_below") is not None else None
    with src.search_share.searching(stream, meet):
        yield from _search_keyset(src, stream, below, meet, run)


def _search_keyset(
    src: HubSpotSource, stream: str, below: int | None, meet: _Meet, run: _Run
) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
    from connectors.hubspot.source import PROPERTIES

    while True:
        filters = [] if below is None else [{"propertyName": "hs_object_id", "operator": "LT", "value": str(below)}]
        body = {
            "filterGroups": [{"filters": filters}] if filters else [],
            "sorts": [{"propertyName": "hs_object_id", "direction": "DESCENDING"}],
            "properties": list(PROPERTIES[stream]),
            "limit": src.split_search_limit,
        }
        src.search_share.before_search(stream)
        page = src.client.post(f"/crm/v3/objects/{stream}/search", body)
        objects = page.get("results") or []
        src._page_read(run, "backfill", len(objects))
        for obj in objects:
            run.live_ids.add(str(obj["id"]))
        if not objects:
            yield [], None
            return
        below = min(int(o["id"]) for o in objects)
        meet.hi = max(int(o["id"]) for o in objects) if meet.hi is None else meet.hi
        meet.search_min = below if meet.search_min is None else min(meet.search_min, below)
        last = next_after(page) is None or len(objects) < src.split_search_limit
        yield objects, (None if last else below)
        if last or below <= meet.list_max + 1:
            return


def _with_history(src: HubSpotSource, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The listed deals re-read with their history, each keeping the list's associations (a deal
    archived since it was listed is left out: the archived pass reads it)."""
    associations = {str(o["id"]): o.get("associations") for o in listed}
    objects = src._read_deals([str(o["id"]) for o in listed])
    for obj in objects:
        obj["associations"] = associations.get(str(obj["id"]))
    return objects


def _read_children(src: HubSpotSource, ids: list[str]) -> tuple[list[dict[str, Any]], list[Row]]:
    """The deals' history (batch read) and associations (v4), read together."""
    from connectors.http.concurrency import ordered_map

    objects, associations = ordered_map(
        lambda read: read(ids), [src._read_deals, src._read_associations], src.max_concurrency
    )
    return objects, associations
