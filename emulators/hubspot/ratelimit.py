"""HubSpot-style rate limits: a rolling 10-second window, a per-second search window and a
daily counter, with the ``X-HubSpot-RateLimit-*`` headers HubSpot sends on non-search calls.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

# Reported in headers when no limit is configured (HubSpot Pro private-app ceilings).
DEFAULT_PER_10S = 190
DEFAULT_DAILY = 650_000
DEFAULT_SEARCH_PER_S = 5

MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}


@dataclass
class Decision:
    """Outcome of one check: ``policy`` is set when the call must get a 429."""

    policy: str | None
    headers: dict[str, str] = field(default_factory=dict)


class RateLimiter:
    """Thread-safe counters. Rejected calls do not consume window slots."""

    def __init__(self, per_10s: int | None = None, search_per_s: int | None = None, daily: int | None = None) -> None:
        self.per_10s, self.search_per_s, self.daily = per_10s, search_per_s, daily
        self._lock = threading.Lock()
        self._window: deque[float] = deque()
        self._second: deque[float] = deque()
        self._search: deque[float] = deque()
        self.daily_used = 0
        self.limited: dict[str, int] = {}
        self.peak_window = 0

    def check(self, is_search: bool, now: float | None = None) -> Decision:
        """Account for one call and say whether it is allowed."""
        now = time.monotonic() if now is None else now
        with self._lock:
            for q, span in ((self._window, 10.0), (self._second, 1.0), (self._search, 1.0)):
                while q and q[0] <= now - span:
                    q.popleft()
            policy = None
            if self.daily is not None and self.daily_used >= self.daily:
                policy = "DAILY"
            elif is_search:
                if self.search_per_s is not None and len(self._search) >= self.search_per_s:
                    policy = "SECONDLY"
            elif self.per_10s is not None and len(self._window) >= self.per_10s:
                policy = "TEN_SECONDLY_ROLLING"
            if policy:
                self.limited[policy] = self.limited.get(policy, 0) + 1
            else:
                self.daily_used += 1
                if is_search:
                    self._search.append(now)
                else:
                    self._window.append(now)
                    self._second.append(now)
                    self.peak_window = max(self.peak_window, len(self._window))
            headers = {} if is_search else self._headers()
        return Decision(policy, headers)

    def _headers(self) -> dict[str, str]:
        mx = self.per_10s or DEFAULT_PER_10S
        daily = self.daily or DEFAULT_DAILY
        secondly = max(1, -(-mx // 10))
        return {
            "X-HubSpot-RateLimit-Daily": str(daily),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, daily - self.daily_used)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(mx),
            "X-HubSpot-RateLimit-Remaining": str(max(0, mx - len(self._window))),
            "X-HubSpot-RateLimit-Secondly": str(secondly),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(max(0, secondly - len(self._second))),
        }

    def stats(self) -> dict:
        """Counters for benchmarks: calls allowed today, 429s per policy, peak window share."""
        with self._lock:
            mx = self.per_10s or DEFAULT_PER_10S
            return {
                "daily_used": self.daily_used,
                "rate_limited": dict(self.limited),
                "peak_10s_window": self.peak_window,
                "ten_secondly_max": mx,
                "peak_10s_share": self.peak_window / mx,
            }
