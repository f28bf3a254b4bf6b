"""HubSpot connector defaults: the one home for every tunable's default value.

The client, the source and the environment settings (`core/source_settings.py`) all read these,
so a default is changed here and nowhere else. HubSpot's own limits are documented in the README
(configuration table) and `docs/decisions.md`.
"""

from __future__ import annotations

BASE_URL = "https://api.hubapi.com"
TIMEOUT_S = 30.0
MAX_RETRIES = 6
BACKOFF_BASE_S = 1.0
"""Back-off unit: a 429 waits 10 units (1 for search), a 5xx 0.2·2ⁿ units."""
RATE_LIMIT_PER_10S = 90
"""Client-side ceiling for ordinary calls per rolling 10 s (HubSpot allows 100-190)."""
SEARCH_RATE_PER_S = 4.0
"""Client-side ceiling for search calls per second (HubSpot allows 5)."""
OVERLAP_MINUTES = 10
"""Incremental searches start this long before the cursor (search is eventually consistent)."""
FULL_SWEEP_HOURS = 168.0
"""How often a sync lists every id to catch hard deletes and association changes."""
BATCH_SIZE = 500
"""Records per committed batch."""
MAX_CONCURRENCY: int | None = None
"""Requests in flight together per account; None: derived from the rate limit
(:func:`connectors.http.concurrency.max_concurrency_for`: 90 / 10 s -> 4, 190 / 10 s -> 8)."""
SPLIT_BACKFILL_MIN_RECORDS: int | None = 5_000
"""A backfill of a stream with at least this many live records reads the list up from the lowest
id and a search down from the highest at once (:mod:`connectors.hubspot.backfill`)."""
