"""Pipedrive connector defaults: the one home for every tunable's default value.

The client, the source and the environment settings (`core/source_settings.py`) all read these.
Pipedrive's own limits are described in `docs/decisions.md`.
"""

from __future__ import annotations

BASE_URL = "https://api.pipedrive.com"
TIMEOUT_S = 30.0
MAX_RETRIES = 6
BACKOFF_BASE_S = 1.0
"""Back-off unit: a 5xx waits 0.5·2ⁿ units; a 429 waits `x-ratelimit-reset` seconds (or 2 units)."""
RATE_LIMIT_PER_2S = 18
"""Client-side ceiling per rolling 2 s before the API announces its own (`x-ratelimit-limit`);
Pipedrive's smallest plan allows 20 per 2 s for an API token."""
OVERLAP_SECONDS = 60
"""Incremental reads start this long before the cursor (`updated_since` is inclusive anyway)."""
FULL_SWEEP_HOURS = 168.0
"""How often a sync lists every deal and person id to catch hard deletes."""
BATCH_SIZE = 500
"""Records per committed batch (deals: with their flows)."""
MAX_CONCURRENCY: int | None = None
"""Requests in flight together per account; None: derived from the rate limit
(:func:`connectors.http.concurrency.max_concurrency_for`: 18 / 2 s -> 4)."""
