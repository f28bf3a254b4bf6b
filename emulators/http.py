"""Pieces every API emulator's HTTP layer shares: injectable faults and a quiet threaded server."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any


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


__all__ = ["Fault", "QuietHTTPServer"]
