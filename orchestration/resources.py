"""Dagster resources, configured from the environment (see `definitions.py`)."""

from __future__ import annotations

from dagster import ConfigurableResource

from connectors.common import ProgressFn, no_progress
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.source import HubSpotSource


class HubSpotResource(ConfigurableResource):
    """HubSpot CRM access. Unconfigured (no token) means the source is skipped."""

    access_token: str | None = None
    base_url: str = "https://api.hubapi.com"
    backoff_base_s: float = 1.0
    rate_limit_per_10s: int | None = 90
    search_rate_per_s: float | None = 4.0
    timeout_s: float = 30.0
    overlap_minutes: int = 10
    full_sweep_every_hours: float = 168.0
    batch_size: int = 500

    @property
    def is_configured(self) -> bool:
        return bool(self.access_token)

    def build_source(self, progress: ProgressFn = no_progress) -> HubSpotSource:
        client = HubSpotClient(
            self.base_url,
            self.access_token or "",
            timeout_s=self.timeout_s,
            backoff_base_s=self.backoff_base_s,
            rate_limit_per_10s=self.rate_limit_per_10s,
            search_rate_per_s=self.search_rate_per_s,
            progress=progress,
        )
        return HubSpotSource(
            client,
            overlap_minutes=self.overlap_minutes,
            full_sweep_every_hours=self.full_sweep_every_hours,
            batch_size=self.batch_size,
        )
