"""The per-stream cursor of the contacts and deals streams (stored by the loader as JSON).

Format, version 1::

    {
      "version": 1,
      "phase": "backfill" | "incremental",
      "backfill_after": "<list cursor>" | None,  # next unread page of the backfill list
      "backfill_last_id": "123" | None,  # split backfill: the list has every id up to this one
      "backfill_below": "456" | None,  # split backfill: the search has every live id >= this one
      "backfill_started_ms": 1740787200000 | None,  # `now` when the backfill began
      "modified_since_ms": 1740787200000 | None,  # highest modified timestamp loaded
      "last_full_sweep_at": "2025-03-01T09:15:00.000Z" | None,
    }

* ``phase == "backfill"``: a full list read is under way; the next sync resumes it from
  ``backfill_after`` (None = from the start). Upserts make a repeated page harmless.
* ``backfill_below`` set: a split backfill (:mod:`connectors.hubspot.backfill`) is under way:
  the list reads up from ``backfill_after``, a search reads down from ``backfill_below``, and the
  backfill is complete when the two ranges touch. Cursors stored before these two keys existed
  read them as None (a plain backfill).
* ``phase == "incremental"``: search ``<modified property> GTE modified_since_ms - overlap``.
  When a backfill finishes, ``modified_since_ms`` = min(max modified seen, backfill start), so
  records changed while the backfill ran are picked up by the next incremental run.
* ``last_full_sweep_at``: when every live + archived id was last listed (hard-delete detection).
  None or older than ``full_sweep_every_hours`` = a sweep is due.

Resetting a stream = deleting its stored cursor (``state=None``): the next sync is a full
backfill (which is also a full sweep). Rows already loaded are upserted, not duplicated.
The owners and pipelines streams are full refreshes; their cursor ``{"version": 1,
"last_sync_at": iso}`` is informational only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.common import ConnectorError
from connectors.common import sweep_due as sweep_due  # re-exported: the HubSpot source reads it as cur.sweep_due
from core.epoch import to_ms

CURSOR_VERSION = 1


def initial_state(now: datetime) -> dict[str, Any]:
    """The cursor of a stream that has never synced (a backfill starting at ``now``)."""
    return {
        "version": CURSOR_VERSION,
        "phase": "backfill",
        "backfill_after": None,
        "backfill_last_id": None,
        "backfill_below": None,
        "backfill_started_ms": to_ms(now),
        "modified_since_ms": None,
        "last_full_sweep_at": None,
    }


def load_state(state: dict[str, Any] | None, stream: str, now: datetime) -> dict[str, Any]:
    """Validate a stored cursor (None -> a fresh backfill); returns a copy."""
    if not state:
        return initial_state(now)
    if state.get("version") != CURSOR_VERSION or state.get("phase") not in {
        "backfill",
        "incremental",
    }:
        raise ConnectorError(
            f"hubspot {stream}: stored cursor has an unknown format (version "
            f"{state.get('version')!r}). Delete the stored cursor of this stream to run a "
            "full backfill."
        )
    merged = initial_state(now)
    merged.update(state)
    if merged["phase"] == "incremental" and merged["modified_since_ms"] is None:
        raise ConnectorError(
            f"hubspot {stream}: incremental cursor without modified_since_ms. Delete the "
            "stored cursor of this stream to run a full backfill."
        )
    return merged
