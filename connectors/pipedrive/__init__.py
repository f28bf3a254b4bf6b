"""Pipedrive CRM connector: HTTP client, raw table schemas and streams (no warehouse code).

client = PipedriveClient(base_url, token, progress=log)
for batch in PipedriveSource(client).sync("deals", stored_cursor, now=datetime.now(UTC)):
    loader.write_batch(batch, sync_id)
"""

from connectors.pipedrive.client import PipedriveClient
from connectors.pipedrive.schema import STREAM_TABLES, TABLES
from connectors.pipedrive.source import PipedriveSource

__all__ = ["STREAM_TABLES", "TABLES", "PipedriveClient", "PipedriveSource"]
