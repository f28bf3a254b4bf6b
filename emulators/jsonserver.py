"""A small threaded JSON HTTP server for the ad-platform emulators (tests, demo, never production).

An API module supplies ``handle(request) -> Response``; this module adds what every emulated API
needs around it: a loopback listener, request/status counters, queued faults (``Fault``) and a
seeded random failure rate (``fail_rate``) whose failures are the API's own transient errors
(``transient(request)``). Request logging is off: query strings and headers may hold tokens.
"""

from __future__ import annotations

import json
import random
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from emulators.http import LoopbackServer


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    """Served instead of the real answer for the next ``times`` requests whose path contains
    ``path_contains`` (and of ``method``, if given); ``response=None`` serves the API's
    transient error."""

    path_contains: str = ""
    response: Response | None = None
    times: int = 1
    method: str | None = None


class JsonServer(LoopbackServer):
    """Serve ``handle`` on ``http://127.0.0.1:<port>``; a context manager. The listener, the
    fault queue and the counters are the shared `emulators.http.LoopbackServer`'s."""

    name = "sandbox"

    def __init__(self, *, fail_rate: float = 0.0, fail_seed: int = 0, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.thread_name = f"sandbox-{self.name}"
        self.fail_rate = fail_rate
        self._fail_rng = random.Random(fail_seed)

    def handler_base(self) -> type:
        return _Handler

    # -------------------------------------------------------------- to implement
    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def transient(self, request: Request) -> Response:  # noqa: ARG002
        """The API's own transient failure (served by ``fail_rate`` and empty faults)."""
        return Response(503, {"error": "unavailable"})

    def canonical_path(self, path: str) -> str:
        return path

    # -------------------------------------------------------------- test hooks
    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.request_count,
                "by_path": dict(self.path_counts),
                "by_status": dict(self.status_counts),
            }

    # -------------------------------------------------------------- internals
    def _respond(self, request: Request) -> Response:
        with self._lock:
            self.request_count += 1
            self.path_counts[self.canonical_path(request.path)] += 1
            fault = self._take_queued_fault(request.method, request.path)
            random_failure = fault is None and self.fail_rate > 0 and self._fail_rng.random() < self.fail_rate
        if fault is not None:
            response = fault.response or self.transient(request)
        elif random_failure:
            response = self.transient(request)
        else:
            try:
                response = self.handle(request)
            except Exception as exc:  # an emulator bug: answer 500, say so on stderr
                sys.stderr.write(f"{self.name} emulator: {type(exc).__name__}: {exc}\n")
                response = Response(500, {"error": "internal"})
        with self._lock:
            self.status_counts[response.status] += 1
        return response


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Sandbox/1.0"
    sys_version = ""
    timeout = 60
    app: JsonServer

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging (it could carry query strings)."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method,
            parts.path,
            parse_qs(parts.query, keep_blank_values=True),
            {k.lower(): v for k, v in self.headers.items()},
            self.rfile.read(length) if length else b"",
        )
        response = self.app._respond(request)
        data = json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in response.headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


Handler = Callable[[Request], Response]
