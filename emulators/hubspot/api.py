"""The HubSpot endpoints of the sandbox, as plain functions over one SQLite connection.

Every function takes a :class:`Call` and returns ``(status, body)``; the HTTP layer in
:mod:`emulators.hubspot.server` handles auth, rate limits, faults and serialisation.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from emulators.hubspot.calls import ApiError as ApiError
from emulators.hubspot.calls import Call as Call
from emulators.hubspot.calls import Response as Response
from emulators.hubspot.calls import error_body as error_body
from emulators.hubspot.catalog import LASTMOD
from emulators.hubspot.handlers_account import (
    owner,
    owners,
    pipeline,
    pipeline_stages,
    pipelines,
    properties,
    property_one,
)
from emulators.hubspot.handlers_objects import assoc_batch_read, batch_read, list_objects, read_object, search

# ---------------------------------------------------------------- routing

_ID = r"[^/]+"
ROUTES: list[tuple[str, re.Pattern, Callable[[Call], Response], bool]] = [
    (m, re.compile(f"^{pat}$"), fn, is_search)
    for m, pat, fn, is_search in (
        ("POST", rf"/crm/v3/objects/(?P<type>{_ID})/search", search, True),
        ("POST", rf"/crm/v3/objects/(?P<type>{_ID})/batch/read", batch_read, False),
        ("GET", rf"/crm/v3/objects/(?P<type>{_ID})", list_objects, False),
        ("GET", rf"/crm/v3/objects/(?P<type>{_ID})/(?P<id>{_ID})", read_object, False),
        ("GET", rf"/crm/v3/pipelines/(?P<type>{_ID})", pipelines, False),
        ("GET", rf"/crm/v3/pipelines/(?P<type>{_ID})/(?P<pipeline>{_ID})", pipeline, False),
        ("GET", rf"/crm/v3/pipelines/(?P<type>{_ID})/(?P<pipeline>{_ID})/stages", pipeline_stages, False),
        ("GET", r"/crm/v3/owners/?", owners, False),
        ("GET", rf"/crm/v3/owners/(?P<id>{_ID})", owner, False),
        ("GET", rf"/crm/v3/properties/(?P<type>{_ID})", properties, False),
        ("GET", rf"/crm/v3/properties/(?P<type>{_ID})/(?P<name>{_ID})", property_one, False),
        ("POST", rf"/crm/v4/associations/(?P<from>{_ID})/(?P<to>{_ID})/batch/read", assoc_batch_read, False),
    )
]
_DATED = re.compile(r"^/crm/(objects|pipelines|owners|properties)/\d{4}-\d{2}(/.*)?$")
_DATED_ASSOC = re.compile(r"^/crm/associations/\d{4}-\d{2}(/.*)?$")


def canonical_path(path: str) -> str:
    """Map date-versioned paths (``/crm/objects/2026-03/deals``) onto their v3/v4 twins."""
    m = _DATED.match(path)
    if m:
        return f"/crm/v3/{m.group(1)}{m.group(2) or ''}"
    m = _DATED_ASSOC.match(path)
    if m:
        return f"/crm/v4/associations{m.group(1) or ''}"
    return path


def route(method: str, path: str) -> tuple[Callable[[Call], Response] | None, dict, bool, bool]:
    """(handler, path params, is_search, path_exists_with_other_method)."""
    canon = canonical_path(path.rstrip("/") or "/")
    other = False
    for m, pat, fn, is_search in ROUTES:
        match = pat.match(canon)
        if match:
            if m == method:
                return fn, match.groupdict(), is_search, False
            other = True
    return None, {}, False, other


__all__ = ["LASTMOD", "ApiError", "Call", "canonical_path", "error_body", "route"]
