"""Google Ads connector defaults: the one home for every tunable's default value (read by the
client, the source and `core/source_settings.py`)."""

from __future__ import annotations

BASE_URL = "https://googleads.googleapis.com"
TOKEN_URL = "https://oauth2.googleapis.com/token"
API_VERSION = "v26"
"""Google ships ~3 versions a year and sunsets each about a year later: keep this current."""
TIMEOUT_S = 60.0
MAX_RETRIES = 6
BACKOFF_BASE_S = 1.0
"""Back-off unit: a 5xx waits 0.2·2ⁿ units; a quota error without retryDelay 10·n units."""
MAX_RETRY_DELAY_S = 120.0
"""Longest `retryDelay` honoured before giving up on a quota error."""
REREAD_DAYS = 30
"""Trailing days re-read on every run (cost settles within days; conversions restate later)."""
START_YEARS_BACK = 3
"""First run: read every day from ADS_START_DATE, by default this many years before today."""
CHUNK_DAYS = 92
"""Days per searchStream request (and per committed batch)."""
