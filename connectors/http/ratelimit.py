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

    ``acquire(hold=True)`` with :meth:`release` is for a client whose ceiling equals the API's:
    the call holds its slot while it is in flight and its window starts when it completes, so
    however the round trip varies, the API (which counts a call some time between the two) never
    sees more than ``max_calls`` in its window. It costs a round trip per window (2 % at 200 ms
    in 10 s).
    """

    POLL_S = 0.01  # every slot held by calls in flight: look again after this long

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
        self._calls: deque[float] = deque()  # when each call began (or, if held, completed)
        self._open = 0  # held calls in flight
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

    def acquire(self, *, hold: bool = False) -> float:
        """Wait for a free slot, record the call, return the seconds waited.

        ``hold``: the call keeps its slot until :meth:`release` (call it once, when the call
        has completed, whatever its outcome)."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._prune(now)
                used = len(self._calls) + self._open
                if used < self.max_calls:
                    if hold:
                        self._open += 1
                    else:
                        self._calls.append(now)
                    return waited
                k = used - self.max_calls  # this many more must leave the window, then one more
                delay = self._calls[k] + self.window_s - now if k < len(self._calls) else self.POLL_S
            delay = max(delay, 0.001)
            self._sleep(delay)
            waited += delay

    def release(self) -> None:
        """A held call has completed: its slot stays taken for one window from now."""
        with self._lock:
            self._open = max(0, self._open - 1)
            self._calls.append(self._clock())

    def in_window(self) -> int:
        """Calls that count now: in the window, or held and in flight."""
        with self._lock:
            self._prune(self._clock())
            return len(self._calls) + self._open

    def _prune(self, now: float) -> None:
        while self._calls and self._calls[0] <= now - self.window_s:
            self._calls.popleft()


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
