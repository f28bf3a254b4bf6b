"""HTTP client for the HubSpot CRM API: auth, retries, rate limits, paging, no secrets leaked.

Retry policy (waits are multiples of ``backoff_base_s`` so tests can run fast; 1.0 in production):

* ``Retry-After`` header present: wait that long (capped at ``max_retry_after_s``).
* 429 ``TEN_SECONDLY_ROLLING`` (or unknown policy on an ordinary call): 10 x base x attempt.
* 429 ``SECONDLY`` (search, or unknown policy on a search call): 1 x base x attempt.
* 429 ``DAILY``: :class:`RateLimitExhausted` at once (the quota resets at the portal's midnight).
* 423 locked: 2 x base x attempt. 477 and 5xx (502/503/504/524, ...), connection errors and
  timeouts: 0.2 x base x 2^attempt, plus up to 25 % jitter.
* 401/403/530: :class:`AuthError` at once, no retry.
* other 4xx: :class:`ConnectorError` at once with HubSpot's category and message.

After ``max_retries`` retries the call fails with :class:`ConnectorError`
(:class:`RateLimitExhausted` when the last failure was a 429).

The token is only ever placed in the ``Authorization`` header of each request. Messages are built
from method + path + status; anything from requests or from a response body passes through
:func:`connectors.http.redact.redact`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests

from connectors.common import (
    AuthError,
    ConnectorError,
    ProgressFn,
    RateLimitExhausted,
    no_progress,
)
from connectors.http.client import Retry, backoff_s, transport_failure
from connectors.http.concurrency import max_concurrency_for, pooled_session
from connectors.http.ratelimit import RollingWindowLimiter, shared_limiter, shared_semaphore
from connectors.http.redact import Secret, redact
from connectors.hubspot import defaults

SEARCH_RESULT_CAP = 10_000  # search: `after` >= 10,000 is rejected with 400
HISTORY_PAGE_LIMIT = 50  # list/read with propertiesWithHistory: at most 50 objects per page
REQUIRED_SCOPES = "crm.objects.deals.read, crm.objects.contacts.read, crm.objects.owners.read"
TOKEN_ENV = "HUBSPOT_ACCESS_TOKEN"

_RETRY_STATUSES = {423, 429, 477, 500, 502, 503, 504, 520, 521, 522, 523, 524}
_AUTH_STATUSES = {401, 403, 530}


class PagedReads:
    """HubSpot's two paging schemes on top of ``get``/``post`` (shared by every client shape)."""

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def post(self, path: str, json: dict[str, Any] | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def iter_list_pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Yield every page of a list endpoint, following ``paging.next.after``.

        ``params['after']`` (if given) is the starting cursor; :func:`next_after` of a yielded
        page is the cursor of the page after it (a caller can checkpoint it).
        """
        query = dict(params or {})
        while True:
            page = self.get(path, query)
            yield page
            after = next_after(page)
            if not after:
                return
            query["after"] = after

    def iter_search_pages(self, path: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Yield the pages of one search query by offset, stopping before the 10,000 cap.

        When the last yielded page still has ``paging.next.after`` (>= the cap) the query was
        truncated: the caller must restart with a narrower filter (see the source).
        """
        query = dict(body)
        while True:
            page = self.post(path, query)
            yield page
            after = next_after(page)
            if not after or int(after) >= SEARCH_RESULT_CAP:
                return
            query["after"] = after


class HubSpotClient(PagedReads):
    """A small, safe HubSpot HTTP client.

    ``get``/``post`` return the decoded JSON body; ``iter_list_pages`` follows
    ``paging.next.after``; ``iter_search_pages`` pages a search by offset up to the 10,000 cap.
    ``stats`` counts requests, retries, 429s and seconds waited (limiter + back-off).
    ``rate_window_s`` is the length of the ordinary limiter's window (10 s at HubSpot; shorter
    in tests).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float = defaults.TIMEOUT_S,
        max_retries: int = defaults.MAX_RETRIES,
        backoff_base_s: float = defaults.BACKOFF_BASE_S,
        rate_limit_per_10s: int | None = defaults.RATE_LIMIT_PER_10S,
        search_rate_per_s: float | None = defaults.SEARCH_RATE_PER_S,
        session: requests.Session | None = None,
        progress: ProgressFn = no_progress,
        rate_window_s: float = 10.0,
        max_retry_after_s: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        max_concurrency: int | None = defaults.MAX_CONCURRENCY,
    ) -> None:
        if not token:
            raise AuthError(
                f"No HubSpot access token. Set {TOKEN_ENV} to a private-app token with {REQUIRED_SCOPES} scopes."
            )
        self.base_url = base_url.rstrip("/")
        self.__token = Secret(token)
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.max_retry_after_s = max_retry_after_s
        self.progress = progress
        self._session = session or pooled_session(max(10, int(max_concurrency or 0) + 4))
        self._sleep = sleep
        # One pair of limiters per account (base URL + token) in this process: HubSpot counts
        # every call of the account, so clients built per stream must share the budget.
        account = (self.base_url, hashlib.sha256(token.encode()).hexdigest(), sleep)
        self._limiter = (
            shared_limiter(
                (*account, "calls", rate_limit_per_10s, rate_window_s),
                lambda: RollingWindowLimiter(rate_limit_per_10s, rate_window_s, sleep=sleep),
            )
            if rate_limit_per_10s
            else None
        )
        self._configured_limit = rate_limit_per_10s
        self._search_limiter = (
            shared_limiter(
                (*account, "search", search_rate_per_s),
                lambda: RollingWindowLimiter.per_second(search_rate_per_s, sleep=sleep),
            )
            if search_rate_per_s
            else None
        )
        # Requests in flight together (any thread, every client of the account): bounded.
        per_s = rate_limit_per_10s / rate_window_s if rate_limit_per_10s else None
        self.max_concurrency = max(1, int(max_concurrency or max_concurrency_for(per_s)))
        self._in_flight = shared_semaphore((*account, "in_flight", self.max_concurrency), self.max_concurrency)
        self._stats_lock = threading.Lock()
        self.stats: dict[str, float] = {
            "requests": 0,
            "search_requests": 0,  # of them: search calls (their own rate limit)
            "retries": 0,
            "throttled_429": 0,
            "waited_s": 0.0,
        }

    def __repr__(self) -> str:
        return f"HubSpotClient(base_url={self.base_url!r}, token='***')"

    __str__ = __repr__

    # ------------------------------------------------------------------ public calls
    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET ``path`` (relative to base_url) and return the JSON body."""
        return self._request("GET", path, params=params)

    def post(self, path: str, json: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a JSON body to ``path`` and return the JSON body."""
        return self._request("POST", path, json_body=json)

    def search_slots_free(self) -> int | None:
        """Search calls the search limiter would let through now (None: no search limit)."""
        limiter = self._search_limiter
        return None if limiter is None else limiter.max_calls - limiter.in_window()

    # ------------------------------------------------------------------ internals
    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if not path.startswith("/"):
            path = "/" + path
        what = f"{method} {path}"
        is_search = method == "POST" and path.rstrip("/").endswith("/search")
        attempt = 1
        while True:
            held = self._throttle(is_search)
            retry: Retry | None = None
            try:
                return self._attempt(method, path, what, params, json_body, is_search, attempt)
            except Retry as exc:
                retry = exc
            finally:
                if held is not None:
                    held.release()
            if retry.rate_limited:
                self._count("throttled_429")
            if attempt > self.max_retries:
                self._give_up(what, retry, attempt)
            self._count("retries")
            self._report(
                f"hubspot: {retry.what}; retry {attempt}/{self.max_retries} in {retry.wait_s:.2f} s",
                {"attempt": attempt, "wait_s": round(retry.wait_s, 3), "path": path},
            )
            self._wait(retry.wait_s)
            attempt += 1

    def _attempt(
        self,
        method: str,
        path: str,
        what: str,
        params: dict[str, Any] | None,
        json_body: dict[str, Any] | None,
        is_search: bool,
        attempt: int,
    ) -> dict[str, Any]:
        self._count("requests")
        if is_search:
            self._count("search_requests")
        # Exceptions from requests are never chained (their text may hold URLs or headers):
        # each is replaced by a message built here, raised outside the except block.
        failure: Exception | None = None
        try:
            with self._in_flight:
                resp = self._session.request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=json_body,
                    headers={
                        "Authorization": f"Bearer {self.__token.reveal()}",
                        "Accept": "application/json",
                    },
                    timeout=self.timeout_s,
                )
        except requests.RequestException as exc:
            failure = transport_failure(exc, what, "HubSpot", self.timeout_s, lambda: self._expo(attempt), self._redact)
        if failure is not None:
            raise failure
        return self._handle(resp, what, attempt, is_search)

    def _handle(self, resp: requests.Response, what: str, attempt: int, is_search: bool) -> dict[str, Any]:
        status = resp.status_code
        if not is_search:
            self._adapt_to_headers(resp.headers)
        if 200 <= status < 300:
            if status == 204 or not resp.content:
                return {}
            try:
                body = resp.json()
            except ValueError:
                raise ConnectorError(f"HubSpot {what} returned HTTP {status} with a body that is not JSON.") from None
            return body if isinstance(body, dict) else {"results": body}
        body = _error_body(resp)
        category = str(body.get("category") or body.get("errorType") or "")
        label = f"{status} {category}".strip()
        if status in _AUTH_STATUSES:
            detail = self._redact(_auth_detail(body))
            raise AuthError(
                f"HubSpot rejected the access token ({label}) on {what}. Check "
                f"{TOKEN_ENV}: a private-app token with {REQUIRED_SCOPES} scopes.{detail}"
            )
        retry_after = _retry_after_s(resp.headers.get("Retry-After"))
        if status == 429:
            policy = str(body.get("policyName") or "").upper()
            if policy == "DAILY":
                raise RateLimitExhausted(
                    f"HubSpot's DAILY request limit is used up ({what} got 429). The quota "
                    "resets at midnight in the portal's time zone; re-run after that (the sync "
                    "resumes from its last committed cursor) or ask for a higher API limit."
                )
            if retry_after is not None:
                wait = min(retry_after, self.max_retry_after_s)
            elif policy == "SECONDLY" or (not policy and is_search):
                wait = 1.0 * self.backoff_base_s * attempt
            else:
                wait = 10.0 * self.backoff_base_s * attempt
            raise Retry(f"HTTP 429 {policy or 'rate limit'} on {what}", wait, rate_limited=True)
        if status in _RETRY_STATUSES or status >= 500:
            if retry_after is not None:
                wait = min(retry_after, self.max_retry_after_s)
            elif status == 423:
                wait = 2.0 * self.backoff_base_s * attempt
            else:
                wait = self._expo(attempt)
            raise Retry(f"HTTP {label} on {what}", wait)
        message = self._redact(str(body.get("message") or resp.reason or ""))[:500]
        hint = ""
        if status == 400 and "propertiesWithHistory" in (resp.request.url or ""):
            hint = f" Note: requests with propertiesWithHistory are limited to {HISTORY_PAGE_LIMIT} objects per page."
        if status == 400 and "search" in what and "after" in message.lower():
            hint = f" Search results are capped at {SEARCH_RESULT_CAP} per query."
        raise ConnectorError(f"HubSpot {what} failed with HTTP {label}: {message}.{hint}")

    def _give_up(self, what: str, retry: Retry, attempts: int) -> None:
        if retry.rate_limited:
            raise RateLimitExhausted(
                f"HubSpot kept rate-limiting {what}: gave up after {attempts} attempts "
                f"(last: {retry.what}). Another app may share this account's limit; lower "
                "rate_limit_per_10s or re-run later (the sync resumes from its last cursor)."
            )
        raise ConnectorError(
            f"HubSpot {what} failed after {attempts} attempts (last: {retry.what}). Check "
            "HUBSPOT_BASE_URL and the network, or https://status.hubspot.com; re-running "
            "resumes from the last committed cursor."
        )

    def _expo(self, attempt: int) -> float:
        return backoff_s(0.2 * self.backoff_base_s, attempt)

    def _throttle(self, is_search: bool) -> RollingWindowLimiter | None:
        """Wait for the call's slot; returns the limiter to release when the call completes.

        Ordinary calls hold their slot while in flight (their window starts at completion): the
        client's ceiling is the account's own, so a call the server counts late must not let a
        191st into its window. Search keeps its 20 % headroom (4 of 5 per second) instead."""
        if is_search:
            if self._search_limiter is not None:
                self._count("waited_s", self._search_limiter.acquire())
            return None
        if self._limiter is None:
            return None
        self._count("waited_s", self._limiter.acquire(hold=True))
        return self._limiter

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)
            self._count("waited_s", seconds)

    def _count(self, key: str, amount: float = 1) -> None:
        with self._stats_lock:
            self.stats[key] += amount

    def _adapt_to_headers(self, headers: Any) -> None:
        """Follow X-HubSpot-RateLimit-* headers: adopt a lower Max, pause when nearly empty."""
        if self._limiter is None:
            return
        try:
            remaining = int(headers.get("X-HubSpot-RateLimit-Remaining"))
            maximum = int(headers.get("X-HubSpot-RateLimit-Max"))
        except (TypeError, ValueError):
            return
        interval_ms = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
        try:
            interval_s = int(interval_ms) / 1000.0 if interval_ms else 10.0
        except ValueError:
            interval_s = 10.0
        if maximum > 0 and self._configured_limit and maximum < self._limiter.max_calls:
            # the account allows fewer calls than configured: keep 10 % headroom
            self._limiter.set_max_calls(max(1, int(maximum * 0.9)))
        low_water = max(2, maximum // 20)
        # calls of the window that are not this process's (another app on the account): our own
        # limiter already keeps ours under the ceiling, so an empty window of our own is no reason
        others = maximum - remaining - self._limiter.in_window()
        if maximum > 0 and remaining < low_water and others >= low_water:
            # Someone else shares the budget: wait for roughly enough slots to come back.
            wait = interval_s * (low_water - remaining) / maximum
            wait = min(wait if remaining > 0 else interval_s, interval_s)
            self._report(
                f"hubspot: only {remaining}/{maximum} requests left in the window; pausing {wait:.2f} s",
                {"remaining": remaining, "max": maximum, "wait_s": round(wait, 3)},
            )
            self._wait(wait)

    def _redact(self, text: object) -> str:
        return redact(text, [self.__token.reveal()])

    def _report(self, message: str, counters: dict[str, Any]) -> None:
        self.progress(self._redact(message), counters)


def next_after(page: dict[str, Any]) -> str | None:
    """The ``paging.next.after`` of a page, or None on the last page."""
    nxt = (page.get("paging") or {}).get("next") or {}
    after = nxt.get("after")
    return str(after) if after not in (None, "") else None


def _error_body(resp: requests.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _auth_detail(body: dict[str, Any]) -> str:
    parts = []
    if body.get("message"):
        parts.append(str(body["message"])[:300])
    for err in body.get("errors") or []:
        if isinstance(err, dict):
            ctx = err.get("context") or {}
            scopes = ctx.get("requiredGranularScopes") or ctx.get("requiredScopes")
            if scopes:
                parts.append("required scopes: " + ", ".join(map(str, scopes)))
    sub = body.get("subCategory")
    if sub:
        parts.append(f"subCategory {sub}")
    return (" HubSpot said: " + "; ".join(parts)) if parts else ""


def _retry_after_s(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # HTTP-date form: fall back to the policy back-off
