"""Dagster resources, built from the sources' settings objects (`core/source_settings.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from dagster import ConfigurableResource, EnvVar
from dagster_duckdb import DuckDBResource

from connectors.common import ProgressFn, no_progress
from connectors.daily_window import start_date_from
from connectors.google_ads import defaults as google_ads_defaults
from connectors.google_ads.client import GoogleAdsClient
from connectors.google_ads.parse import customer_ids as google_customer_ids
from connectors.google_ads.parse import normalize_customer_id
from connectors.google_ads.source import GoogleAdsSource
from connectors.hubspot import defaults
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.source import HubSpotSource
from connectors.meta import defaults as meta_defaults
from connectors.meta.client import MetaClient
from connectors.meta.parse import account_ids as meta_account_ids
from connectors.meta.source import MetaSource
from connectors.pipedrive import defaults as pipedrive_defaults
from connectors.pipedrive.client import PipedriveClient
from connectors.pipedrive.source import PipedriveSource
from core.source_settings import GoogleAdsSettings, HubSpotSettings, MetaSettings, PipedriveSettings, SourceSettings
from core.sources import SourceDefinition
from warehouse.engines import analytics_connection, open_raw_loader
from warehouse.engines.reads import ReadSet


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
    max_concurrency: int | None = defaults.MAX_CONCURRENCY

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
            max_concurrency=self.max_concurrency,
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
    max_concurrency: int | None = pipedrive_defaults.MAX_CONCURRENCY

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
            max_concurrency=self.max_concurrency,
        )
        return PipedriveSource(
            client,
            overlap_seconds=self.overlap_seconds,
            full_sweep_every_hours=self.full_sweep_hours,
            batch_size=self.batch_size,
        )


class GoogleAdsResource(ConfigurableResource):
    """Google Ads access. Unconfigured (any of the four credentials unset) means skipped.

    Fields mirror `GoogleAdsSettings` (defaults from `connectors.google_ads.defaults`).
    """

    developer_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    customer_ids: str | None = None
    login_customer_id: str | None = None
    base_url: str = google_ads_defaults.BASE_URL
    token_url: str = google_ads_defaults.TOKEN_URL
    api_version: str = google_ads_defaults.API_VERSION
    start_date: str | None = None
    reread_days: int = google_ads_defaults.REREAD_DAYS
    backoff_base_s: float = google_ads_defaults.BACKOFF_BASE_S
    timeout_s: float = google_ads_defaults.TIMEOUT_S

    @classmethod
    def from_env(cls) -> GoogleAdsResource:
        return cls(**resource_config(GoogleAdsSettings))

    @property
    def is_configured(self) -> bool:
        return all((self.developer_token, self.client_id, self.client_secret, self.refresh_token))

    def build_source(self, progress: ProgressFn = no_progress) -> GoogleAdsSource:
        client = GoogleAdsClient(
            self.base_url,
            self.token_url,
            developer_token=self.developer_token or "",
            client_id=self.client_id or "",
            client_secret=self.client_secret or "",
            refresh_token=self.refresh_token or "",
            login_customer_id=normalize_customer_id(self.login_customer_id) if self.login_customer_id else None,
            api_version=self.api_version,
            timeout_s=self.timeout_s,
            backoff_base_s=self.backoff_base_s,
            progress=progress,
        )
        today = datetime.now(UTC).date()
        return GoogleAdsSource(
            client,
            google_customer_ids(self.customer_ids),
            start_date=start_date_from(self.start_date, today, google_ads_defaults.START_YEARS_BACK),
            reread_days=self.reread_days,
        )


class MetaResource(ConfigurableResource):
    """Meta Marketing API access. Unconfigured (token or account ids unset) means skipped.

    Fields mirror `MetaSettings` (defaults from `connectors.meta.defaults`).
    """

    access_token: str | None = None
    ad_account_ids: str | None = None
    base_url: str = meta_defaults.BASE_URL
    api_version: str = meta_defaults.API_VERSION
    start_date: str | None = None
    reread_days: int = meta_defaults.REREAD_DAYS
    page_limit: int = meta_defaults.PAGE_LIMIT
    backoff_base_s: float = meta_defaults.BACKOFF_BASE_S
    timeout_s: float = meta_defaults.TIMEOUT_S

    @classmethod
    def from_env(cls) -> MetaResource:
        return cls(**resource_config(MetaSettings))

    @property
    def is_configured(self) -> bool:
        return bool(self.access_token and self.ad_account_ids)

    def build_source(self, progress: ProgressFn = no_progress) -> MetaSource:
        client = MetaClient(
            self.base_url,
            self.access_token or "",
            api_version=self.api_version,
            timeout_s=self.timeout_s,
            backoff_base_s=self.backoff_base_s,
            progress=progress,
        )
        today = datetime.now(UTC).date()
        return MetaSource(
            client,
            meta_account_ids(self.ad_account_ids),
            start_date=start_date_from(self.start_date, today, google_ads_defaults.START_YEARS_BACK),
            reread_days=self.reread_days,
            page_limit=self.page_limit,
        )


class WarehouseResource(DuckDBResource):
    """The warehouse, on the engine of WAREHOUSE_TARGET (`warehouse/engines`).

    ``database`` is the DuckDB file: the warehouse on ``duckdb``, the raw landing file on
    ``spark``, unused on ``postgres``. `get_connection(reads)` is a DuckDB connection holding the
    dbt relations on every engine (the file itself, or an in-memory copy of the engine's tables:
    only those ``reads`` names), so the anomaly checks, row counts and publishing read any engine
    the same way; `raw_loader()` writes raw data where the engine reads it.
    """

    target: str = "duckdb"

    @contextmanager
    def get_connection(self, reads: ReadSet | None = None) -> Iterator[Any]:
        if self.target == "duckdb":
            with super().get_connection() as con:
                yield con
            return
        with analytics_connection(self.database, self.target, reads=reads) as con:
            yield con

    @contextmanager
    def raw_loader(self, source: SourceDefinition) -> Iterator[Any]:
        with open_raw_loader(self.database, source, self.target) as loader:
            yield loader
