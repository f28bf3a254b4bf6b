"""Which key values a raw table may already hold: a few ranges that cover every stored value.

The loader upserts by deleting a batch's keys before inserting them. In a backfill almost every
key is new, and a delete that finds nothing still costs a look-up per key in a table that keeps
growing. :class:`KeyRanges` remembers, per table column, a handful of closed ranges
``[low, high]`` (VARCHAR order) that together contain every value stored; a value outside all
of them cannot be stored, so the loader deletes only the values inside one.

The ranges are in *key order*: shorter strings first, then lexicographic (:func:`key_order`).
For ids that are digit strings without leading zeros (HubSpot's and Pipedrive's) that is their
numeric order, so a backfill that lists ids upwards grows one range at its top end even when the
ids change length (``"99999"`` → ``"100000"``); in plain VARCHAR order ``"100000"`` sorts between
``"10000"`` and ``"99999"``, and every later batch would look like it may overlap the first.

The ranges only ever cover *more* than is stored (merging two ranges takes their hull), so a
value they rule out is certainly absent. They are seeded from the table (its min and max) the
first time a column is asked about, and must be forgotten (:meth:`KeyRanges.forget`) when a
transaction that extended them rolls back. They are shared by every loader of one schema of one
database file in the process (:func:`shared_key_ranges`); rows written to raw tables other than
through the loader are not seen (the raw schemas are the loader's alone).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable

MAX_RANGES = 16

Key = tuple[int, str]


def key_order(value: str) -> Key:
    """The order the ranges are kept in: by length, then lexicographic (numeric for digit ids)."""
    return (len(value), value)


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class Ranges:
    """Disjoint sorted closed ranges of strings in :func:`key_order` (at most ``max_ranges``);
    ``lows`` and ``highs`` hold the ends as order keys."""

    def __init__(self, max_ranges: int = MAX_RANGES) -> None:
        self.lows: list[Key] = []
        self.highs: list[Key] = []
        self.max_ranges = max(1, max_ranges)

    def may_contain(self, value: str) -> bool:
        key = key_order(value)
        i = bisect.bisect_right(self.lows, key) - 1
        return i >= 0 and key <= self.highs[i]

    def add(self, low_value: str, high_value: str) -> None:
        """Cover ``[low_value, high_value]`` (key order) too, merged with every range it overlaps."""
        low, high = key_order(low_value), key_order(high_value)
        if high < low:
            low, high = high, low
        lo_i = bisect.bisect_left(self.highs, low)  # first range ending at or after low
        hi_i = bisect.bisect_right(self.lows, high)  # ranges before this start at or before high
        if lo_i < hi_i:
            low, high = min(low, self.lows[lo_i]), max(high, self.highs[hi_i - 1])
        self.lows[lo_i:hi_i] = [low]
        self.highs[lo_i:hi_i] = [high]
        while len(self.lows) > self.max_ranges:
            self._merge_closest()

    def _merge_closest(self) -> None:
        """Merge the neighbours whose facing ends have one length and share the longest prefix
        (the nearest, for digit strings)."""

        def closeness(i: int) -> tuple[bool, int]:
            (high_len, high), (low_len, low) = self.highs[i], self.lows[i + 1]
            return (high_len == low_len, _common_prefix(high, low))

        best = max(range(len(self.lows) - 1), key=closeness)
        self.highs[best] = self.highs[best + 1]
        del self.lows[best + 1], self.highs[best + 1]


Seed = Callable[[str, str], "tuple[str, str] | None"]
"""``seed(table, column)``: the column's stored ``(min, max)`` in :func:`key_order`, None for an
empty table."""


class KeyRanges:
    """:class:`Ranges` per ``(table, column)``, seeded on first use from ``seed``."""

    def __init__(self, max_ranges: int = MAX_RANGES) -> None:
        self._max = max_ranges
        self._ranges: dict[tuple[str, str], Ranges] = {}

    def _get(self, table: str, column: str, seed: Seed) -> Ranges:
        key = (table, column)
        if key not in self._ranges:
            ranges = Ranges(self._max)
            bounds = seed(table, column)
            if bounds is not None:
                ranges.add(*bounds)
            self._ranges[key] = ranges
        return self._ranges[key]

    def maybe_stored(self, table: str, column: str, values: Iterable[str], seed: Seed) -> list[str]:
        """The values that may be stored (the others certainly are not), in their order."""
        ranges = self._get(table, column, seed)
        return [v for v in values if ranges.may_contain(v)]

    def stored(self, table: str, column: str, low: str, high: str, seed: Seed) -> None:
        """Values between ``low`` and ``high`` (key order) are now written to the column."""
        self._get(table, column, seed).add(low, high)

    def emptied(self, table: str) -> None:
        """Every row of ``table`` was deleted (in the current transaction)."""
        for key in [k for k in self._ranges if k[0] == table]:
            self._ranges[key] = Ranges(self._max)

    def forget(self) -> None:
        """Drop everything (seeded again from the tables on next use)."""
        self._ranges.clear()


_SHARED: dict[tuple[str, str], KeyRanges] = {}
_SHARED_LOCK = threading.Lock()


def shared_key_ranges(database: str | None, schema: str) -> KeyRanges:
    """The process-wide :class:`KeyRanges` of one schema of one database file, so every loader
    of it (any connection in this process) sees what the others wrote; a database without a
    file (in memory) gets its own."""
    if not database:
        return KeyRanges()
    with _SHARED_LOCK:
        return _SHARED.setdefault((database, schema), KeyRanges())
