"""Local HTTP server speaking Pipedrive's API (v2 + the v1 endpoints still in use) over a
sandbox SQLite file.

Per request: count it, serve an injected fault if one matches (or, with ``fail_rate``, a random
500/502/503/429), check the token (``x-api-token`` header or ``api_token`` query parameter: 401),
apply the burst limit (a rolling 2-second window: 429 with ``x-ratelimit-reset`` in seconds;
after ``cloudflare_after`` consecutive 429s a 403 HTML page for ``cloudflare_block_s``), route
(404), answer from SQLite.
Every answer carries ``x-ratelimit-limit``/``-remaining``/``-reset``. Nothing is logged.
"""

from __future__ import annotations

import hmac
import json
import math
import random
import socket
import sqlite3
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from emulators.http import Fault, LoopbackServer
from emulators.pipedrive import api
from emulators.truth import store
from emulators.truth.pipedrive import ensure_pipedrive_tables

DEFAULT_BURST = 80  # reported when no limit is configured (Professional plan, API token)
WINDOW_S = 2.0
CLOUDFLARE_PAGE = "<html><head><title>403 Forbidden</title></head><body>Access denied (Cloudflare)</body></html>"


def fault_body(status: int) -> dict:
    if status == 429:
        return api.error_body("Request over limit")
    if status == 401:
        return api.error_body("unauthorized access", errorCode=401)
    if status == 403:
        return api.error_body("You do not have permissions to access this resource")
    if status == 404:
        return api.error_body("Not found")
    return api.error_body("Internal server error" if status >= 500 else f"HTTP {status}")


class BurstLimiter:
    """A rolling 2-second window per token, plus an optional daily request budget."""

    def __init__(self, per_2s: int | None, daily: int | None = None) -> None:
        self.per_2s, self.daily = per_2s, daily
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()
        self.daily_used = 0
        self.limited = 0

    def check(self) -> tuple[bool, dict[str, str]]:
        now = time.monotonic()
        with self._lock:
            while self._calls and self._calls[0] <= now - WINDOW_S:
                self._calls.popleft()
            limit = self.per_2s or DEFAULT_BURST
            over = (self.per_2s is not None and len(self._calls) >= self.per_2s) or (
                self.daily is not None and self.daily_used >= self.daily
            )
            if over:
                self.limited += 1
            else:
                self._calls.append(now)
                self.daily_used += 1
            reset = self._calls[0] + WINDOW_S - now if self._calls else 0.0
            headers = {
                "x-ratelimit-limit": str(limit),
                "x-ratelimit-remaining": str(max(0, limit - len(self._calls))),
                "x-ratelimit-reset": str(max(1, math.ceil(reset)) if over else math.ceil(reset)),
            }
        return not over, headers


class PipedriveServer(LoopbackServer):
    """A Pipedrive look-alike on ``http://127.0.0.1:<port>``; use as a context manager."""

    thread_name = "sandbox-pipedrive"

    def __init__(
        self,
        db_path: Path | str,
        *,
        token: str = "sandbox-token",
        rate_limit_per_2s: int | None = None,
        daily_limit: int | None = None,
        fail_rate: float = 0.0,
        fail_seed: int = 0,
        cloudflare_after: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.db_path = Path(db_path)
        if not self.db_path.exists():
            raise FileNotFoundError(f"sandbox database not found: {self.db_path}")
        ensure_pipedrive_tables(self.db_path)
        super().__init__(host, port)
        self._token = token
        self.limiter = BurstLimiter(rate_limit_per_2s, daily_limit)
        self.fail_rate = fail_rate
        self._fail_rng = random.Random(fail_seed)
        self.cloudflare_after = cloudflare_after
        self.cloudflare_block_s = 5.0
        self._consecutive_429 = 0
        self._blocked_until = 0.0

    def handler_base(self) -> type:
        return _Handler

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.request_count,
                "by_path": dict(self.path_counts),
                "by_status": dict(self.status_counts),
                "rate_limited": self.limiter.limited,
                "daily_used": self.limiter.daily_used,
            }

    # -------------------------------------------------------------- internals
    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            fault = self._take_queued_fault("GET", path)
            if fault is not None:
                return fault
            if self.fail_rate and self._fail_rng.random() < self.fail_rate:
                status = self._fail_rng.choice((500, 502, 503, 429))
                return Fault(status=status, headers={"x-ratelimit-reset": "1"} if status == 429 else {})
        return None

    def _count(self, path: str, status: int) -> None:
        with self._lock:
            self.request_count += 1
            self.path_counts[api.canonical_path(path)] += 1
            self.status_counts[status] += 1
            if status == 429:
                self._consecutive_429 += 1
                if self.cloudflare_after is not None and self._consecutive_429 >= self.cloudflare_after:
                    self._blocked_until = time.monotonic() + self.cloudflare_block_s
            elif status != 403:
                self._consecutive_429 = 0

    def _authorized(self, header: str | None, query: dict[str, list[str]]) -> bool:
        given = header or (query.get("api_token") or [""])[-1]
        return bool(given) and hmac.compare_digest(given.strip().encode(), self._token.encode())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SandboxPipedrive/1.0"
    sys_version = ""
    timeout = 60
    app: PipedriveServer

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging (query strings may carry an api_token)."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._send(405, api.error_body("The sandbox is read-only"), {})

    def _send(self, status: int, body: dict | str, headers: dict[str, str], path: str = "") -> None:
        html = isinstance(body, str)
        data = (body if html else json.dumps(body)).encode()
        self.app._count(path or urlsplit(self.path).path, status)
        self.send_response(status)
        self.send_header("Content-Type", "text/html" if html else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self) -> None:
        app = self.app
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        fault = app._take_fault(parts.path)
        if fault is not None:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            if fault.status is not None:
                self._send(fault.status, fault.body or fault_body(fault.status), dict(fault.headers))
                return
        if not app._authorized(self.headers.get("x-api-token"), query):
            self._send(401, fault_body(401), {})
            return
        if time.monotonic() < app._blocked_until:  # the edge blocks a client that ignored 429s
            self._send(403, CLOUDFLARE_PAGE, {})
            return
        allowed, headers = app.limiter.check()
        if not allowed:
            self._send(429, fault_body(429), headers)
            return
        fn, params = api.route(parts.path)
        if fn is None:
            self._send(404, api.error_body(f"Unknown path {parts.path}"), headers)
            return
        conn = store.connect(app.db_path, readonly=True)
        try:
            status, out = fn(api.Call(conn, parts.path, query, params))
        except api.ApiError as exc:
            status, out = exc.status, api.error_body(exc.message, **exc.extra)
        except sqlite3.Error:
            status, out = 500, api.error_body("Internal server error")
        finally:
            conn.close()
        self._send(status, out, headers)
