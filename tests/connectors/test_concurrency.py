"""The scheduling pieces of connectors.http.concurrency, as pure functions over plain iterators."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from connectors.http.concurrency import (
    StreamFailed,
    max_concurrency_for,
    merge_ordered,
    ordered_map,
    prefetch,
)


def test_default_concurrency_follows_littles_law() -> None:
    # 19 calls/s x 0.4 s round trip = 7.6 in flight -> 8; 9/s -> 3.6 -> 4
    assert max_concurrency_for(19.0) == 8
    assert max_concurrency_for(9.0) == 4
    assert max_concurrency_for(1.0) == 2  # never below 2
    assert max_concurrency_for(1000.0) == 16  # capped
    assert max_concurrency_for(None) == 4
    assert max_concurrency_for(19.0, round_trip_s=0.1) == 2


def test_ordered_map_keeps_input_order_and_runs_together() -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def slow(x: int) -> int:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.02 * (5 - x % 5))  # later items finish first
        with lock:
            in_flight -= 1
        return x * 10

    assert ordered_map(slow, range(10), 4) == [x * 10 for x in range(10)]
    assert 2 <= peak <= 4


def test_ordered_map_raises_the_first_failure() -> None:
    def fn(x: int) -> int:
        if x in (3, 7):
            raise ValueError(f"bad {x}")
        return x

    with pytest.raises(ValueError, match="bad 3"):
        ordered_map(fn, range(10), 3)


def test_prefetch_runs_ahead_by_depth_and_keeps_order() -> None:
    produced: list[int] = []

    def gen() -> Iterator[int]:
        for i in range(5):
            produced.append(i)
            yield i

    it = prefetch(gen(), 1)
    assert next(it) == 0
    time.sleep(0.05)
    # one item handed over, one waiting in the queue, one computed and blocked on the full queue
    assert produced == [0, 1, 2]
    assert list(it) == [1, 2, 3, 4]


def test_prefetch_surfaces_errors_after_the_items_before_them() -> None:
    def gen() -> Iterator[int]:
        yield 1
        raise RuntimeError("page 2 failed")

    it = prefetch(gen(), 2)
    assert next(it) == 1
    with pytest.raises(RuntimeError, match="page 2 failed"):
        next(it)


def test_prefetch_stops_the_producer_when_the_consumer_stops() -> None:
    closed = threading.Event()

    def gen() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    it = prefetch(gen(), 1)
    assert next(it) == 0
    it.close()
    assert closed.wait(2)


def test_merge_keeps_each_iterators_order_and_reports_failures() -> None:
    def slow(name: str, n: int, delay: float, fail_at: int | None = None) -> Iterator[str]:
        for i in range(n):
            if i == fail_at:
                raise RuntimeError(f"{name} broke")
            time.sleep(delay)
            yield f"{name}{i}"

    events = list(merge_ordered({"a": slow("a", 5, 0.01), "b": slow("b", 3, 0.02, fail_at=2), "c": slow("c", 4, 0.0)}))
    by_name: dict[str, list[object]] = {}
    for name, item in events:
        by_name.setdefault(name, []).append(item)
    assert by_name["a"] == ["a0", "a1", "a2", "a3", "a4"]
    assert by_name["c"] == ["c0", "c1", "c2", "c3"]
    assert by_name["b"][:2] == ["b0", "b1"]
    assert isinstance(by_name["b"][2], StreamFailed) and "b broke" in str(by_name["b"][2].error)
    # items of different iterators interleave (they ran together)
    names = [n for n, _ in events]
    assert names != sorted(names)
