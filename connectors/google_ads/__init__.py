"""Google Ads API connector: OAuth refresh-token flow, GAQL over searchStream for campaign × day
spend, campaigns and customers (no warehouse code).
``GoogleAdsSource(GoogleAdsClient(...), customer_ids, start_date=...)``."""

from connectors.google_ads.client import GoogleAdsClient
from connectors.google_ads.schema import STREAM_TABLES, TABLES
from connectors.google_ads.source import GoogleAdsSource

__all__ = ["STREAM_TABLES", "TABLES", "GoogleAdsClient", "GoogleAdsSource"]
