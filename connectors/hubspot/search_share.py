"""How the split backfills of one source share the account's search limit.

See :mod:`connectors.hubspot.backfill` ("Sharing the search budget") and docs/decisions.md
("Split backfill: contacts first on the search limit, deals history read ahead").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

SPARE_SEARCH_SLOTS = 2  # a deals search behind contacts waits for this many free search slots
SEARCH_POLL_S = 0.02
REMAINING_MARGIN = 0.02  # of the id range: "further behind" means by more than this


class Progress(Protocol):
    def remaining(self) -> float: ...


class SearchShare:
    """How the split backfills of one source share the account's search limit (module doc).

    ``searching(stream, meet)`` marks a search part as running (a context manager);
    ``before_search(stream)`` holds a deals search back while contacts have more left to read,
    until the search limiter has a slot to spare beyond the one the contacts chain needs next
    (``free_slots``: the search calls the limiter would let through now; None: no limiter)."""

    def __init__(self, free_slots: Callable[[], int | None], sleep: Callable[[float], None] = time.sleep) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, Progress] = {}
        self._free_slots = free_slots
        self._sleep = sleep

    @contextmanager
    def searching(self, stream: str, meet: Progress) -> Iterator[None]:
        with self._lock:
            self._running[stream] = meet
        try:
            yield
        finally:
            with self._lock:
                self._running.pop(stream, None)

    def contacts_behind(self) -> bool:
        """A contacts search part runs and has more of its range left than the deals one."""
        with self._lock:
            contacts, deals = self._running.get("contacts"), self._running.get("deals")
        if contacts is None or deals is None:
            return False
        return contacts.remaining() > deals.remaining() + REMAINING_MARGIN

    def before_search(self, stream: str) -> None:
        if stream != "deals":
            return
        while self.contacts_behind():
            free = self._free_slots()
            if free is None or free >= SPARE_SEARCH_SLOTS:
                return
            self._sleep(SEARCH_POLL_S)
