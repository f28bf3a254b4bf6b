"""HubSpot CRM connector: HTTP client, raw table schemas and streams (no warehouse code).

Typical use (the orchestration layer owns the token and the stored cursors)::

    client = HubSpotClient(base_url, token, progress=log)
    source = HubSpotSource(client)
    for batch in source.sync("deals", stored_cursor, now=datetime.now(UTC)):
        loader.write(batch)

Resetting a stream = deleting its stored cursor; the next sync is a full backfill.
"""

from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.schema import (
    CONTACT_PROPERTIES,
    DEAL_HISTORY_PROPERTIES,
    DEAL_PROPERTIES,
    STREAM_TABLES,
    TABLES,
)
from connectors.hubspot.source import HubSpotSource

__all__ = [
    "CONTACT_PROPERTIES",
    "DEAL_HISTORY_PROPERTIES",
    "DEAL_PROPERTIES",
    "STREAM_TABLES",
    "TABLES",
    "HubSpotClient",
    "HubSpotSource",
]
