"""Meta (Marketing API) connector defaults: the one home for every tunable's default value."""

from __future__ import annotations

BASE_URL = "https://graph.facebook.com"
API_VERSION = "v25.0"
"""Pin the Graph API version (each lives about two years)."""
TIMEOUT_S = 60.0
MAX_RETRIES = 6
BACKOFF_BASE_S = 1.0
"""Back-off unit: a throttled call waits 5·n units (or the regain time Meta announces)."""
MAX_RETRY_DELAY_S = 300.0
"""Longest announced wait (``estimated_time_to_regain_access``) honoured before giving up."""
REREAD_DAYS = 30
"""Trailing days re-read every run (Meta restates inside its 28-day click window)."""
CHUNK_DAYS = 31
"""Days per insights query (and per committed batch); smaller ranges avoid timeouts."""
PAGE_LIMIT = 500
"""Rows per insights page (`limit`)."""
USAGE_PAUSE_PCT = 90
"""Pause when `x-business-use-case-usage` shows a share (call count, CPU, time) at or above this."""
