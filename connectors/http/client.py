"""A small JSON-over-HTTP client base: one attempt loop, back-off, rate limiter, no secret leaked.

Each API's client subclasses :class:`JsonHttpClient` and implements :meth:`handle`, which turns
one response into the decoded body or raises :class:`Retry` (wait and try again) or a
:class:`~connectors.common.ConnectorError` (give up with a message that says what to do).
Timeouts and connection errors are retried with exponential back-off (0.2 × base × 2ⁿ, plus up
to 25 % jitter). Messages are built from method + path + status; anything else goes through
:func:`connectors.http.redact.redact` with the client's secrets.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from typing import Any

import requests

from connectors.common import ConnectorError, ProgressFn, RateLimitExhausted, no_progress
from connectors.http.ratelimit import RollingWindowLimiter
from connectors.http.redact import Secret, redact


class Retry(Exception):
    """The attempt failed in a retryable way: wait ``wait_s`` seconds and try again."""

    def __init__(self, what: str, wait_s: float, *, rate_limited: bool = False) -> None:
        super().__init__(what)
        self.what = what
        self.wait_s = wait_s
        self.rate_limited = rate_limited


class JsonHttpClient:
    """Retries, limiter and redaction shared by the ad-platform clients.

    ``api_name`` names the API in messages; ``give_up_hint`` is appended when retries run out.
    ``stats`` counts requests, retries, throttled answers and seconds waited.
    """

    api_name = "API"
    give_up_hint = "Check the base URL and the network; re-running resumes from the last cursor."

    def __init__(
        self,
        *,
        secrets: Iterable[str | None],
        timeout_s: float,
        max_retries: int,
        backoff_base_s: float,
        max_retry_after_s: float,
        limiter: RollingWindowLimiter | None = None,
        session: requests.Session | None = None,
        progress: ProgressFn = no_progress,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.__secrets = [Secret(s) for s in secrets if s]
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.max_retry_after_s = max_retry_after_s
        self.limiter = limiter
        self.progress = progress
        self._session = session or requests.Session()
        self._sleep = sleep
        self.stats: dict[str, float] = {"requests": 0, "retries": 0, "throttled": 0, "waited_s": 0.0}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(secrets='***')"

    __str__ = __repr__

    # ------------------------------------------------------------------ to implement
    def handle(self, resp: requests.Response, what: str, attempt: int) -> Any:
        """The decoded body of a good answer; raise :class:`Retry` or a ConnectorError."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the loop
    def request(
        self,
        method: str,
        url: str,
        what: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        headers: Callable[[], dict[str, str]] | None = None,
        handler: Callable[[requests.Response, str, int], Any] | None = None,
    ) -> Any:
        """Send until ``handler`` (default :meth:`handle`) accepts the answer; ``headers()`` is
        called per attempt (so a refreshed access token is picked up)."""
        attempt = 1
        while True:
            if self.limiter is not None:
                self.stats["waited_s"] += self.limiter.acquire()
            retry: Retry | None = None
            try:
                return self._attempt(method, url, what, params, json, data, headers, attempt, handler)
            except Retry as exc:
                retry = exc
            if retry.rate_limited:
                self.stats["throttled"] += 1
            if attempt > self.max_retries:
                self._give_up(what, retry, attempt)
            self.stats["retries"] += 1
            self.report(
                f"{self.api_name}: {retry.what}; retry {attempt}/{self.max_retries} in {retry.wait_s:.2f} s",
                {"attempt": attempt, "wait_s": round(retry.wait_s, 3)},
            )
            self.wait(retry.wait_s)
            attempt += 1

    def _attempt(self, method, url, what, params, json, data, headers, attempt, handler) -> Any:  # noqa: ANN001
        self.stats["requests"] += 1
        failure: Exception | None = None
        try:
            resp = self._session.request(
                method,
                url,
                params=params,
                json=json,
                data=data,
                headers=headers() if headers else None,
                timeout=self.timeout_s,
            )
        except requests.RequestException as exc:
            failure = transport_failure(
                exc, what, self.api_name, self.timeout_s, lambda: self.expo(attempt), self.redact
            )
        if failure is not None:  # raised outside the except block: never chained
            raise failure
        return (handler or self.handle)(resp, what, attempt)

    def _give_up(self, what: str, retry: Retry, attempts: int) -> None:
        if retry.rate_limited:
            raise RateLimitExhausted(
                f"{self.api_name} kept throttling {what}: gave up after {attempts} attempts (last: "
                f"{retry.what}). Another tool may share the quota; re-run later (the sync resumes "
                "from its last committed cursor)."
            )
        raise ConnectorError(
            f"{self.api_name} {what} failed after {attempts} attempts (last: {retry.what}). {self.give_up_hint}"
        )

    # ------------------------------------------------------------------ helpers
    def expo(self, attempt: int) -> float:
        return backoff_s(0.2 * self.backoff_base_s, attempt)

    def capped(self, seconds: float) -> float:
        return max(0.0, min(seconds, self.max_retry_after_s))

    def wait(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)
            self.stats["waited_s"] += seconds

    def redact(self, text: object) -> str:
        return redact(text, [s.reveal() for s in self.__secrets])

    def report(self, message: str, counters: dict[str, Any]) -> None:
        self.progress(self.redact(message), counters)


def backoff_s(first_s: float, attempt: int) -> float:
    """Exponential back-off of the clients: ``first_s`` × 2ⁿ⁻¹ for attempt n, plus up to 25 % jitter."""
    return first_s * (2 ** max(attempt - 1, 0)) * (1 + random.uniform(0, 0.25))


def transport_failure(
    exc: requests.RequestException,
    what: str,
    api_name: str,
    timeout_s: float,
    wait_s: Callable[[], float],
    redact: Callable[[object], str],
) -> Exception:
    """What an attempt's transport error means, for every client: a timeout or a connection error
    is retried after ``wait_s()``; any other request error gives up, its text redacted."""
    if isinstance(exc, requests.Timeout):
        return Retry(f"{what} timed out after {timeout_s:g} s", wait_s())
    if isinstance(exc, requests.ConnectionError):
        return Retry(f"{what} could not connect ({type(exc).__name__})", wait_s())
    return ConnectorError(f"{api_name} {what} failed: {redact(type(exc).__name__ + ': ' + str(exc))}")


def json_body(resp: requests.Response) -> Any:
    """The decoded body, or None when it is not JSON."""
    try:
        return resp.json()
    except ValueError:
        return None
