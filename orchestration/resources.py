"""Dagster resources, built from the sources' settings objects (`core/source_settings.py`)."""

from __future__ import annotations

from typing import Any

from dagster import ConfigurableResource, EnvVar

from connectors.common import ProgressFn, no_progress
from connectors.hubspot import defaults
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.source import HubSpotSource
from connectors.pipedrive import defaults as pipedrive_defaults
from connectors.pipedrive.client import PipedriveClient
from connectors.pipedrive.source import PipedriveSource
from core.source_settings import HubSpotSettings, PipedriveSettings, SourceSettings


def resource_config(settings_cls: type[SourceSettings]) -> dict[str, Any]:
    """A resource's config from a settings class: secrets as `EnvVar` (Dagster shows and stores
    the variable's name, never its value), everything else as read."""
    settings = settings_cls.from_env()
    secret_env = set(settings_cls.secret_env())
    config: dict[str, Any] = {}
    for name, value in settings.values().items():
        env = settings_cls.env_name(name)
        config[name] = EnvVar(env) if env in secret_env and value else value
    return config


class HubSpotResource(ConfigurableResource):
    """HubSpot CRM access. Unconfigured (no token) means the source is skipped.

    Fields mirror `HubSpotSettings` (the one home of the variables and their defaults, which come
    from `connectors.hubspot.defaults`); `from_env()` is how the code location builds it.
    """

    access_token: str | None = None
    base_url: str = defaults.BASE_URL
    backoff_base_s: float = defaults.BACKOFF_BASE_S
    rate_limit_per_10s: int | None = defaults.RATE_LIMIT_PER_10S
    search_rate_per_s: float | None = defaults.SEARCH_RATE_PER_S
    timeout_s: float = defaults.TIMEOUT_S
    overlap_minutes: int = defaults.OVERLAP_MINUTES
    full_sweep_hours: float = defaults.FULL_SWEEP_HOURS
    batch_size: int = defaults.BATCH_SIZE

    @classmethod
    def from_env(cls) -> HubSpotResource:
        return cls(**resource_config(HubSpotSettings))

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
            full_sweep_every_hours=self.full_sweep_hours,
            batch_size=self.batch_size,
        )


class PipedriveResource(ConfigurableResource):
    """Pipedrive CRM access. Unconfigured (no token) means the source is skipped.

    Fields mirror `PipedriveSettings` (defaults from `connectors.pipedrive.defaults`).
    """

    api_token: str | None = None
    base_url: str = pipedrive_defaults.BASE_URL
    backoff_base_s: float = pipedrive_defaults.BACKOFF_BASE_S
    rate_limit_per_2s: int | None = pipedrive_defaults.RATE_LIMIT_PER_2S
    timeout_s: float = pipedrive_defaults.TIMEOUT_S
    overlap_seconds: int = pipedrive_defaults.OVERLAP_SECONDS
    full_sweep_hours: float = pipedrive_defaults.FULL_SWEEP_HOURS
    batch_size: int = pipedrive_defaults.BATCH_SIZE

    @classmethod
    def from_env(cls) -> PipedriveResource:
        return cls(**resource_config(PipedriveSettings))

    @property
    def is_configured(self) -> bool:
        return bool(self.api_token)

    def build_source(self, progress: ProgressFn = no_progress) -> PipedriveSource:
        client = PipedriveClient(
            self.base_url,
            self.api_token or "",
            timeout_s=self.timeout_s,
            backoff_base_s=self.backoff_base_s,
            rate_limit_per_2s=self.rate_limit_per_2s,
            progress=progress,
        )
        return PipedriveSource(
            client,
            overlap_seconds=self.overlap_seconds,
            full_sweep_every_hours=self.full_sweep_hours,
            batch_size=self.batch_size,
        )
