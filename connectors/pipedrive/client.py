"""HTTP client for the Pipedrive API: token header, retries, burst limit, paging, no secrets leaked.

Retry policy (waits are multiples of ``backoff_base_s`` except the server's own reset time):

* 429: wait ``x-ratelimit-reset`` seconds (Pipedrive sends seconds remaining, relative; there is
  no ``Retry-After``), or 2 x base x attempt without it. A reset longer than
  ``max_retry_after_s`` means the daily budget is spent: :class:`RateLimitExhausted` at once.
* 5xx, connection errors, timeouts: 0.5 x base x 2^attempt plus up to 25 % jitter.
* 401/402, or 403 (JSON: missing permission; HTML: the edge blocking a client after repeated
  429s): :class:`AuthError` at once, with what to do.
* 404: :class:`NotFound` (a deleted deal's flow; the source skips it). 410: the endpoint is
  retired; other 4xx: :class:`ConnectorError` with Pipedrive's message.

The token only ever travels in the ``x-api-token`` header (never ``api_token=`` in a URL, which
Pipedrive would log); every message passes through :func:`connectors.http.redact.redact`. The
client-side limiter follows the ``x-ratelimit-limit`` the API announces (with 10 % headroom).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import requests

from connectors.common import AuthError, ConnectorError, ProgressFn, RateLimitExhausted, no_progress
from connectors.http.client import Retry, backoff_s, transport_failure
from connectors.http.concurrency import max_concurrency_for, pooled_session
from connectors.http.ratelimit import RollingWindowLimiter, shared_limiter, shared_semaphore
from connectors.http.redact import Secret, redact
from connectors.pipedrive import defaults

TOKEN_ENV = "PIPEDRIVE_API_TOKEN"
BASE_URL_ENV = "PIPEDRIVE_BASE_URL"
GENERIC_HOST = "api.pipedrive.com"
V2_LIMIT = 500
V1_LIMIT = 500
WINDOW_S = 2.0
_TOKEN_HINT = (
    f"Check {TOKEN_ENV}: a personal API token (Pipedrive > Personal preferences > API) of a user "
    "who can see the deals, persons and leads to load."
)


class NotFound(ConnectorError):
    """404: the record is gone (a deleted deal's flow)."""


class PipedriveClient:
    """``get`` returns the decoded body; ``iter_v2`` follows ``next_cursor``; ``iter_v1`` follows
    ``start``/``more_items_in_collection``. ``stats`` counts requests, retries, 429s, waits."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float = defaults.TIMEOUT_S,
        max_retries: int = defaults.MAX_RETRIES,
        backoff_base_s: float = defaults.BACKOFF_BASE_S,
        rate_limit_per_2s: int | None = defaults.RATE_LIMIT_PER_2S,
        max_retry_after_s: float = 120.0,
        session: requests.Session | None = None,
        progress: ProgressFn = no_progress,
        sleep: Callable[[float], None] = time.sleep,
        max_concurrency: int | None = defaults.MAX_CONCURRENCY,
    ) -> None:
        if not token:
            raise AuthError(f"No Pipedrive API token. Set {TOKEN_ENV} (and {BASE_URL_ENV} for a company domain).")
        self.base_url = base_url.rstrip("/")
        self.__token = Secret(token)
        self.v1 = "/v1" if urlsplit(self.base_url).hostname == GENERIC_HOST else "/api/v1"
        self.timeout_s, self.max_retries, self.backoff_base_s = timeout_s, max_retries, backoff_base_s
        self.max_retry_after_s = max_retry_after_s
        self.progress = progress
        per_s = rate_limit_per_2s / WINDOW_S if rate_limit_per_2s else None
        self.max_concurrency = max(1, int(max_concurrency or max_concurrency_for(per_s)))
        self._session = session or pooled_session(max(10, self.max_concurrency + 4))
        self._sleep = sleep
        account = (self.base_url, hashlib.sha256(token.encode()).hexdigest(), sleep, "pipedrive")
        # requests in flight together, every client of the account and every thread
        self._in_flight = shared_semaphore((*account, "in_flight", self.max_concurrency), self.max_concurrency)
        self._stats_lock = threading.Lock()
        self._limiter = (
            shared_limiter(
                (*account, rate_limit_per_2s),
                lambda: RollingWindowLimiter(rate_limit_per_2s, WINDOW_S, sleep=sleep),
            )
            if rate_limit_per_2s
            else None
        )
        self.stats: dict[str, float] = {"requests": 0, "retries": 0, "throttled_429": 0, "waited_s": 0.0}

    def __repr__(self) -> str:
        return f"PipedriveClient(base_url={self.base_url!r}, token='***')"

    __str__ = __repr__

    # ------------------------------------------------------------------ paging
    def iter_v2(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every page of a v2 list (``cursor`` -> ``additional_data.next_cursor``)."""
        query = {"limit": V2_LIMIT, **(params or {})}
        while True:
            page = self.get(path, query)
            yield page
            nxt = (page.get("additional_data") or {}).get("next_cursor")
            if not nxt:
                return
            query["cursor"] = nxt

    def iter_v1(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every page of a v1 list (``start``/``limit`` -> ``pagination.next_start``)."""
        query = {"start": 0, "limit": V1_LIMIT, **(params or {})}
        while True:
            page = self.get(path, query)
            yield page
            pagination = (page.get("additional_data") or {}).get("pagination") or {}
            if not pagination.get("more_items_in_collection"):
                return
            query["start"] = int(pagination.get("next_start") or query["start"] + query["limit"])

    # ------------------------------------------------------------------ requests
    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET ``path`` (relative to the base URL) and return the JSON body."""
        what = f"GET {path}"
        attempt = 1
        while True:
            if self._limiter is not None:
                self._count("waited_s", self._limiter.acquire())
            try:
                return self._attempt(path, what, params, attempt)
            except Retry as exc:
                retry = exc
            if retry.rate_limited:
                self._count("throttled_429")
            if attempt > self.max_retries:
                self._give_up(what, retry, attempt)
            self._count("retries")
            self._report(
                f"pipedrive: {retry.what}; retry {attempt}/{self.max_retries} in {retry.wait_s:.2f} s",
                {"attempt": attempt, "wait_s": round(retry.wait_s, 3), "path": path},
            )
            if retry.wait_s > 0:
                self._sleep(retry.wait_s)
                self._count("waited_s", retry.wait_s)
            attempt += 1

    def _count(self, key: str, amount: float = 1) -> None:
        with self._stats_lock:
            self.stats[key] += amount

    def _attempt(self, path: str, what: str, params: dict[str, Any] | None, attempt: int) -> dict[str, Any]:
        self._count("requests")
        failure: Exception | None = None
        try:
            with self._in_flight:
                resp = self._session.get(
                    self.base_url + path,
                    params=params,
                    headers={"x-api-token": self.__token.reveal(), "Accept": "application/json"},
                    timeout=self.timeout_s,
                )
        except requests.RequestException as exc:
            failure = transport_failure(
                exc, what, "Pipedrive", self.timeout_s, lambda: self._expo(attempt), self._redact
            )
        if failure is not None:
            raise failure
        return self._handle(resp, what, attempt)

    def _handle(self, resp: requests.Response, what: str, attempt: int) -> dict[str, Any]:
        status = resp.status_code
        self._adapt(resp.headers)
        if 200 <= status < 300:
            try:
                body = resp.json()
            except ValueError:
                raise ConnectorError(f"Pipedrive {what} returned HTTP {status} with a body that is not JSON.") from None
            return body if isinstance(body, dict) else {"data": body}
        is_html = "html" in (resp.headers.get("Content-Type") or "").lower()
        body = {} if is_html else _json(resp)
        message = self._redact(str(body.get("error") or resp.reason or ""))[:300]
        if status == 429:
            reset = _seconds(resp.headers.get("x-ratelimit-reset"))
            if reset is not None and reset > self.max_retry_after_s:
                raise RateLimitExhausted(
                    f"Pipedrive's request budget is spent ({what} got 429, resets in {reset:.0f} s). The daily "
                    "budget resets at midnight server time; re-run after that (the sync resumes from its cursor)."
                )
            wait = reset if reset is not None else 2.0 * self.backoff_base_s * attempt
            raise Retry(f"HTTP 429 on {what}", wait, rate_limited=True)
        if status >= 500:
            raise Retry(f"HTTP {status} on {what}", self._expo(attempt))
        if status == 401:
            raise AuthError(f"Pipedrive rejected the API token (401) on {what}. {_TOKEN_HINT}")
        if status == 402:
            raise AuthError(
                f"Pipedrive answered 402 on {what}: the company account is inactive or unpaid. "
                "Reactivate the subscription, or point PIPEDRIVE_BASE_URL at an active company."
            )
        if status == 403:
            if is_html:
                raise AuthError(
                    f"Pipedrive's edge blocked the client (403 HTML page) on {what}, which happens after "
                    "repeated 429s. Wait a few minutes and lower PIPEDRIVE_RATE_LIMIT_PER_2S."
                )
            raise AuthError(
                f"Pipedrive refused {what} (403 {message}): the token's user lacks permission. {_TOKEN_HINT}"
            )
        if status == 404:
            raise NotFound(f"Pipedrive {what}: 404 {message}")
        if status == 410:
            raise ConnectorError(
                f"Pipedrive {what} answered 410 Gone: the endpoint is retired ({message}). The connector "
                "reads v2 for deals, persons, pipelines and stages; check PIPEDRIVE_BASE_URL points at the API "
                "root (https://<company>.pipedrive.com or https://api.pipedrive.com) and update the project."
            )
        raise ConnectorError(f"Pipedrive {what} failed with HTTP {status}: {message}.")

    def _give_up(self, what: str, retry: Retry, attempts: int) -> None:
        if retry.rate_limited:
            raise RateLimitExhausted(
                f"Pipedrive kept rate-limiting {what}: gave up after {attempts} attempts. Another app may "
                "share this token's burst limit; lower PIPEDRIVE_RATE_LIMIT_PER_2S or re-run later (the sync "
                "resumes from its last committed cursor)."
            )
        raise ConnectorError(
            f"Pipedrive {what} failed after {attempts} attempts (last: {retry.what}). Check "
            f"{BASE_URL_ENV} and the network, or https://status.pipedrive.com; re-running resumes from the "
            "last committed cursor."
        )

    def _expo(self, attempt: int) -> float:
        return backoff_s(0.5 * self.backoff_base_s, attempt)

    def _adapt(self, headers: Any) -> None:
        """Follow the announced burst limit (both ways), keeping 10 % headroom."""
        if self._limiter is None:
            return
        try:
            limit = int(headers.get("x-ratelimit-limit"))
        except (TypeError, ValueError):
            return
        target = max(1, int(limit * 0.9))
        if limit > 0 and target != self._limiter.max_calls:
            self._limiter.set_max_calls(target)

    def _redact(self, text: object) -> str:
        return redact(text, [self.__token.reveal()])

    def _report(self, message: str, counters: dict[str, Any]) -> None:
        self.progress(self._redact(message), counters)


def _json(resp: requests.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
