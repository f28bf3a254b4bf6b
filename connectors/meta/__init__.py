"""Meta Marketing API connector: Graph API insights per campaign and day, campaigns, ad accounts
(no warehouse code). ``MetaSource(MetaClient(base_url, token), account_ids, start_date=...)``."""

from connectors.meta.client import MetaClient
from connectors.meta.schema import STREAM_TABLES, TABLES
from connectors.meta.source import MetaSource

__all__ = ["STREAM_TABLES", "TABLES", "MetaClient", "MetaSource"]
