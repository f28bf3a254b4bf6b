"""Pieces every API emulator's HTTP layer shares: injectable faults and a quiet threaded server."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Fault:
    """Served instead of the real answer for the next ``times`` matching requests.

    ``status=None`` with ``delay_s`` only delays the real answer (a slow API / timeout test).
    ``body=None`` gives the emulated API's usual body for the status (HubSpot 429: ten_secondly).
    """

    path_contains: str = ""
    status: int | None = 500
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    delay_s: float = 0.0
    method: str | None = None


class QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, _request: Any, _client_address: Any) -> None:
        """Clients that hang up (timeouts in tests) are normal; stay quiet about them."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        sys.stderr.write(f"sandbox server: {type(exc).__name__}: {exc}\n")


class LoopbackServer:
    """What every emulator's server shares: start/stop on a loopback port in a background
    thread, a queue of injected faults, request counters. Subclasses give the handler class
    (a ``BaseHTTPRequestHandler`` with an ``app`` attribute) through :meth:`handler_base`."""

    thread_name = "sandbox"

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._lock = threading.Lock()
        self._faults: list[Any] = []
        self.request_count = 0
        self.path_counts: Counter[str] = Counter()
        self.status_counts: Counter[int] = Counter()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def handler_base(self) -> type:
        raise NotImplementedError

    def start(self) -> str:
        """Start serving in a background thread; returns the base URL."""
        handler = type("Handler", (self.handler_base(),), {"app": self})
        self._httpd = QuietHTTPServer((self.host, self.port), handler)
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True, name=self.thread_name
        )
        self._thread.start()
        return self.base_url

    def serve_forever(self) -> None:
        """Block until :meth:`stop` is called (from a signal handler or another thread)."""
        if self._thread is None:
            self.start()
        assert self._thread is not None
        while self._thread.is_alive():
            self._thread.join(0.2)

    def stop(self) -> None:
        """Stop accepting requests and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject_faults(self, faults: list[Any] | Any) -> None:
        """Queue faults (this module's `Fault` or an emulator's own fault type with
        ``path_contains``, ``times`` and ``method``); each is served for its next ``times``
        matching requests."""
        with self._lock:
            self._faults.extend(faults if isinstance(faults, list) else [faults])

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def reset_counters(self) -> None:
        with self._lock:
            self.request_count = 0
            self.path_counts.clear()
            self.status_counts.clear()

    def _take_queued_fault(self, method: str, path: str) -> Any:
        """The first queued fault matching the request (call with ``self._lock`` held)."""
        for f in self._faults:
            if f.path_contains in path and (f.method is None or f.method == method):
                f.times -= 1
                if f.times <= 0:
                    self._faults.remove(f)
                return f
        return None


__all__ = ["Fault", "LoopbackServer", "QuietHTTPServer"]
