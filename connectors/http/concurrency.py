"""Requests in flight together: the scheduling pieces the connectors share, as small functions.

* :func:`max_concurrency_for` - the default bound on requests in flight, from the rate limit
  (Little's law: calls in flight = rate x round trip);
* :func:`ordered_map` - ``fn`` over items on up to N threads, results in input order (batch reads);
* :func:`prefetch` - run an iterator one step ahead in a thread (the next page is requested while
  the current one is parsed and written), items in their order;
* :class:`Ahead` - start an iterator in a thread now, read its items later (a pass that must be
  committed after another is fetched while the other runs);
* :func:`merge_ordered` - run several iterators at once, yield ``(name, item)`` as they come,
  each iterator's own order kept (streams fetched together, written by one writer).

Errors are never swallowed: an exception raised by the work surfaces in the consumer, where it
would have been raised sequentially (in ``merge_ordered``, as ``(name, StreamFailed)``). A
consumer that stops early (``close()``, an exception) stops the worker threads at their next step.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import requests
import requests.adapters

T = TypeVar("T")
R = TypeVar("R")

ASSUMED_ROUND_TRIP_S = 0.4
"""Round trip the default concurrency is sized for (a slow real API call, not the loopback)."""
MAX_DEFAULT_CONCURRENCY = 16


def max_concurrency_for(rate_per_s: float | None, round_trip_s: float = ASSUMED_ROUND_TRIP_S) -> int:
    """Requests in flight needed to keep ``rate_per_s`` busy at ``round_trip_s`` per request.

    ``ceil(rate x round trip)``, at least 2, at most 16; no rate limit -> 4.
    190 calls / 10 s (19/s) -> 8; 90 / 10 s -> 4.
    """
    if not rate_per_s or rate_per_s <= 0:
        return 4
    return max(2, min(MAX_DEFAULT_CONCURRENCY, math.ceil(rate_per_s * round_trip_s)))


def pooled_session(pool_size: int) -> requests.Session:
    """A session whose connection pool holds every request in flight (requests keeps 10)."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def ordered_map(fn: Callable[[T], R], items: Iterable[T], max_workers: int) -> list[R]:
    """``[fn(x) for x in items]`` on up to ``max_workers`` threads, in the order of ``items``.

    The first exception (in input order) is raised once every call has finished.
    """
    work = list(items)
    if max_workers <= 1 or len(work) <= 1:
        return [fn(x) for x in work]
    with ThreadPoolExecutor(max_workers=min(max_workers, len(work)), thread_name_prefix="fetch") as pool:
        futures = [pool.submit(fn, x) for x in work]
        return [f.result() for f in futures]


_DONE = object()


@dataclass
class _Failed:  # an exception on its way from a worker thread to the consumer
    error: BaseException


class StreamFailed:
    """What :func:`merge_ordered` yields for an iterator that raised: the error, after its items."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _pump(it: Iterable[Any], out: queue.Queue, stop: threading.Event, tag: Any) -> None:
    """Put ``(tag, item)`` for each item of ``it`` on ``out``, then ``(tag, _DONE)``."""

    def put(value: Any) -> bool:
        while not stop.is_set():
            try:
                out.put((tag, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    iterator = iter(it)
    try:
        for item in iterator:
            if not put(item):
                break
        else:
            put(_DONE)
    except BaseException as exc:  # noqa: BLE001 - handed to the consumer, never dropped
        put(_Failed(exc))
    finally:
        close = getattr(iterator, "close", None)
        if close is not None and stop.is_set():
            close()


def prefetch(it: Iterable[T], depth: int = 1) -> Generator[T, None, None]:
    """Yield the items of ``it`` in order, computing up to ``depth`` items ahead in a thread."""
    if depth < 1:
        yield from it
        return
    yield from Ahead(it, depth)


class Ahead(Generic[T]):
    """The items of ``it``, fetched from now on in a thread (up to ``depth`` ahead) while the
    caller does other work; iterate it later to get them in order. ``close()`` stops the thread
    (iterating to the end closes it too); call it when the items are not wanted after all."""

    def __init__(self, it: Iterable[T], depth: int) -> None:
        self._out: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._worker = threading.Thread(target=_pump, args=(it, self._out, self._stop, None), name="ahead", daemon=True)
        self._worker.start()

    def __iter__(self) -> Generator[T, None, None]:
        try:
            while True:
                _, value = self._out.get()
                if value is _DONE:
                    return
                if isinstance(value, _Failed):
                    raise value.error
                yield value
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        self._worker.join()


def merge_ordered(iterators: dict[str, Iterable[Any]], depth: int = 2) -> Generator[tuple[str, Any], None, None]:
    """Run every iterator in its own thread; yield ``(name, item)`` as items arrive.

    Each iterator's items come in its own order; at most ``depth`` x (number of iterators) items
    wait for the consumer (the iterators block when it is full). An iterator that raises yields ``(name, StreamFailed(error))``
    after its last item and the others go on; the consumer decides what to do with it.
    """
    out: queue.Queue = queue.Queue(maxsize=max(1, depth) * max(1, len(iterators)))
    stop = threading.Event()
    workers = [
        threading.Thread(target=_pump, args=(it, out, stop, name), name=f"stream-{name}", daemon=True)
        for name, it in iterators.items()
    ]
    for w in workers:
        w.start()
    running = len(workers)
    try:
        while running:
            name, value = out.get()
            if value is _DONE:
                running -= 1
            elif isinstance(value, _Failed):
                running -= 1
                yield name, StreamFailed(value.error)
            else:
                yield name, value
    finally:
        stop.set()
        for w in workers:
            w.join()
