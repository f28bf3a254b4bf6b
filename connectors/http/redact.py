"""Keep secrets out of every string the connector produces.

requests' exceptions can embed URLs, and in some cases headers; server error bodies can echo
what was sent. Anything that is not built by hand from method + path + status must go through
:func:`redact` before it reaches an exception, a progress message or metadata.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"

# Generic credential shapes, masked even when the exact secret is unknown.
_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\",}\s]+(?:\s+[^'\",}\s]+)?"),
    re.compile(r"(?i)((?:hapikey|access_token|api_token|token|client_secret)=)[^&\s'\"]+"),
    re.compile(r"(?i)(x-api-token['\"]?\s*[:=]\s*['\"]?)[^'\",}\s]+"),
    re.compile(r"(?i)((?:developer-token|client_secret|refresh_token|access_token)['\"]?\s*:\s*['\"]?)[^'\",}\s]+"),
    re.compile(r"()\bpat-[a-z0-9]{2,4}-[A-Za-z0-9-]{8,}"),
    re.compile(r"()\bya29\.[A-Za-z0-9._-]{8,}"),  # Google OAuth access token
    re.compile(r"()\b1//[A-Za-z0-9_-]{16,}"),  # Google OAuth refresh token
    re.compile(r"()\bEAA[A-Za-z0-9]{16,}"),  # Meta access token
)


def redact(text: object, secrets: Iterable[str | None] = ()) -> str:
    """Return ``str(text)`` with every secret (and its URL-encoded forms) masked.

    Besides the given secrets, bearer tokens, ``Authorization`` header values, ``token=``
    query parameters, ``x-api-token``, ``client_secret``/``developer-token``/``refresh_token``
    values and the token shapes of HubSpot (``pat-na1-…``), Google (``ya29.…``, ``1//…``) and
    Meta (``EAA…``) are masked.
    """
    out = str(text)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if len(secret) < 4:  # masking tiny strings would mangle every message
            continue
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            out = out.replace(form, MASK)
    for pattern in _PATTERNS:
        out = pattern.sub(lambda m: m.group(1) + MASK, out)
    return out


class Secret:
    """A string that never shows itself in ``repr``/``str``/``vars``; ``reveal()`` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)
