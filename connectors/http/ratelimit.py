"""Client-side rate limiting: stay under the account's limits instead of collecting 429s."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RollingWindowLimiter:
    """Allow at most ``max_calls`` calls in any rolling window of ``window_s`` seconds.

    ``acquire()`` blocks (through the injected ``sleep``) until a slot is free, records the
    call and returns the seconds it waited. ``max_calls`` can be lowered at run time
    (:meth:`set_max_calls`), e.g. when the API's headers announce a smaller limit.
    """

    def __init__(
        self,
        max_calls: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_calls < 1 or window_s <= 0:
            raise ValueError("max_calls must be >= 1 and window_s > 0")
        self.max_calls = max_calls
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    @classmethod
    def per_second(cls, rate: float, **kwargs: Callable) -> RollingWindowLimiter:
        """A limiter for ``rate`` calls per second (fractional rates widen the window)."""
        calls = max(1, math.floor(rate))
        return cls(calls, calls / rate, **kwargs)

    def set_max_calls(self, max_calls: int) -> None:
        """Change the number of calls allowed per window (never below 1)."""
        with self._lock:
            self.max_calls = max(1, int(max_calls))

    def acquire(self) -> float:
        """Wait for a free slot, record the call, return the seconds waited."""
        waited = 0.0
        with self._lock:
            while True:
                now = self._clock()
                while self._calls and self._calls[0] <= now - self.window_s:
                    self._calls.popleft()
                if len(self._calls) < self.max_calls:
                    self._calls.append(now)
                    return waited
                delay = self._calls[len(self._calls) - self.max_calls] + self.window_s - now
                delay = max(delay, 0.001)
                self._sleep(delay)
                waited += delay


_LIMITERS: dict[tuple, RollingWindowLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_limiter(key: tuple, make: Callable[[], RollingWindowLimiter]) -> RollingWindowLimiter:
    """The process-wide limiter for ``key`` (account + kind + rate), created on first use.

    APIs count every call of an account, so clients built per stream must share one budget.
    """
    with _LIMITERS_LOCK:
        if key not in _LIMITERS:
            _LIMITERS[key] = make()
        return _LIMITERS[key]


_SEMAPHORES: dict[tuple, threading.BoundedSemaphore] = {}


def shared_semaphore(key: tuple, size: int) -> threading.BoundedSemaphore:
    """The process-wide bound on requests in flight for ``key`` (account + size).

    Like :func:`shared_limiter`: every client of one account shares it, whatever thread calls.
    """
    with _LIMITERS_LOCK:
        if key not in _SEMAPHORES:
            _SEMAPHORES[key] = threading.BoundedSemaphore(max(1, size))
        return _SEMAPHORES[key]
