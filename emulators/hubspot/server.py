"""Local HTTP server speaking HubSpot's CRM contract over a sandbox SQLite file.

Order of checks per request: count it, serve an injected fault if one matches, check the
bearer token (401), route (404/405), apply rate limits (429), then answer from SQLite with a
fresh read-only connection. The token is never logged or echoed; request logging is off.
"""

from __future__ import annotations

import hmac
import json
import os
import socket
import sqlite3
import time
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from emulators.http import Fault, LoopbackServer
from emulators.hubspot import api
from emulators.hubspot.ratelimit import MESSAGES, RateLimiter
from emulators.truth import store

LATENCY_ENV = "HUBSPOT_EMULATOR_LATENCY_MS"
AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 "
    "authentication and you can find more details at "
    "https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


def _fault_body(status: int) -> dict:
    if status == 429:
        return {
            "status": "error",
            "message": MESSAGES["TEN_SECONDLY_ROLLING"],
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": "TEN_SECONDLY_ROLLING",
        }
    if status == 401:
        return api.error_body(AUTH_MESSAGE, "INVALID_AUTHENTICATION")
    if status == 403:
        return api.error_body("This app hasn't been granted all required scopes to make this call.", "MISSING_SCOPES")
    return api.error_body(
        "internal error" if status >= 500 else f"HTTP {status}",
        "INTERNAL_ERROR" if status >= 500 else "VALIDATION_ERROR",
    )


class SandboxServer(LoopbackServer):
    """A HubSpot look-alike on ``http://127.0.0.1:<port>``; use as a context manager."""

    thread_name = "sandbox-hubspot"

    def __init__(
        self,
        db_path: Path | str,
        *,
        token: str = "sandbox-token",
        rate_limit_per_10s: int | None = None,
        search_rate_per_s: int | None = None,
        daily_limit: int | None = None,
        latency_ms: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.db_path = Path(db_path)
        if not self.db_path.exists():
            raise FileNotFoundError(f"sandbox database not found: {self.db_path}")
        super().__init__(host, port)
        self._token = token
        self.limiter = RateLimiter(rate_limit_per_10s, search_rate_per_s, daily_limit)
        # A simulated network round trip added to every answer (the loopback has none). The
        # ``latency_ms`` argument wins over ``HUBSPOT_EMULATOR_LATENCY_MS``; 0 / unset: none.
        if latency_ms is None:
            latency_ms = float(os.environ.get(LATENCY_ENV) or 0)
        self.latency_s = max(0.0, float(latency_ms)) / 1000.0

    def handler_base(self) -> type:
        return _Handler

    def stats(self) -> dict[str, Any]:
        """Request, status and rate-limit counters (for tests and benchmarks)."""
        with self._lock:
            out = {
                "requests": self.request_count,
                "by_path": dict(self.path_counts),
                "by_status": dict(self.status_counts),
            }
        out.update(self.limiter.stats())
        out["responses_429"] = out["by_status"].get(429, 0)
        return out

    # -------------------------------------------------------------- internals

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            return self._take_queued_fault(method, path)

    def _count(self, path: str) -> None:
        with self._lock:
            self.request_count += 1
            self.path_counts[api.canonical_path(path)] += 1

    def _count_status(self, status: int) -> None:
        with self._lock:
            self.status_counts[status] += 1

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[7:].strip().encode(), self._token.encode())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SandboxHubSpot/1.0"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version

    timeout = 60
    app: SandboxServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes; without NODELAY, Nagle + delayed ACK add 40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging (it could carry query strings)."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _send(
        self, status: int, body: dict | None, headers: dict[str, str] | None = None, correlation: str | None = None
    ) -> None:
        data = json.dumps(body if body is not None else {}).encode()
        corr = correlation or (body or {}).get("correlationId") or str(uuid.uuid4())
        self.app._count_status(status)
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-HubSpot-Correlation-Id", corr)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self, method: str) -> None:
        app = self.app
        parts = urlsplit(self.path)
        path = parts.path
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        app._count(path)
        if app.latency_s:
            time.sleep(app.latency_s)  # the round trip happens whatever the answer is

        fault = app._take_fault(method, self.path)
        if fault is not None:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            if fault.status is not None:
                body = fault.body if fault.body is not None else _fault_body(fault.status)
                self._send(fault.status, body, dict(fault.headers))
                return

        if not app._authorized(self.headers.get("Authorization")):
            self._send(401, api.error_body(AUTH_MESSAGE, "INVALID_AUTHENTICATION"))
            return

        fn, params, is_search, other = api.route(method, path)
        if fn is None:
            status = 405 if other else 404
            self._send(
                status,
                api.error_body(
                    f"{method} {path} is not supported" if other else f"Unknown path {path}",
                    "VALIDATION_ERROR" if other else "OBJECT_NOT_FOUND",
                ),
            )
            return

        decision = app.limiter.check(is_search)
        if decision.policy:
            policy = decision.policy
            self._send(
                429,
                {
                    "status": "error",
                    "message": MESSAGES[policy],
                    "errorType": "RATE_LIMIT",
                    "correlationId": str(uuid.uuid4()),
                    "policyName": policy,
                },
                decision.headers,
            )
            return

        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                self._send(400, api.error_body("Invalid input JSON on line 1", "VALIDATION_ERROR"), decision.headers)
                return
        conn = store.connect(app.db_path, readonly=True)
        try:
            st = os.stat(app.db_path)
            call = api.Call(
                conn,
                method,
                path,
                parse_qs(parts.query, keep_blank_values=True),
                body,
                app.base_url,
                params,
                db_version=f"{app.db_path}:{st.st_mtime_ns}:{st.st_size}",
            )
            status, out = fn(call)
        except api.ApiError as exc:
            status, out = exc.status, api.error_body(exc.message, exc.category, **exc.extra)
        except sqlite3.Error:
            status, out = 500, api.error_body("internal error", "INTERNAL_ERROR")
        finally:
            conn.close()
        self._send(status, out, decision.headers)
