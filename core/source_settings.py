"""One settings object per source, read from the environment (pydantic-settings).

Each class is the single home of a source's environment variables: the Dagster resource is built
from it, its defaults come from the connector's `defaults` module, and the secret list
(`core.sources.SECRET_ENV_VARS`) derives from its `SecretStr` fields. Variables are
`<PREFIX><FIELD>` upper-cased (`HUBSPOT_ACCESS_TOKEN`); see the README's configuration table.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.google_ads import defaults as google_ads_defaults
from connectors.hubspot import defaults as hubspot_defaults
from connectors.meta import defaults as meta_defaults
from connectors.pipedrive import defaults as pipedrive_defaults
from core.settings import SettingsError

OFF_WORDS = frozenset({"off", "none", "0"})


def _off_to_none(value: Any) -> Any:
    """`off`, `none` or `0` disable an optional ceiling."""
    if isinstance(value, str) and value.strip().lower() in OFF_WORDS:
        return None
    return value


class SourceSettings(BaseSettings):
    """Base: which fields enable the source, which are secret, how to read it with a clear error."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True)
    credential_fields: ClassVar[tuple[str, ...]] = ()
    """Fields that must all be set for the source to be called."""

    @classmethod
    def env_name(cls, field: str) -> str:
        info = cls.model_fields.get(field)
        if info is not None and isinstance(info.validation_alias, str):  # a variable shared by sources
            return info.validation_alias.upper()
        return f"{cls.model_config.get('env_prefix', '')}{field}".upper()

    @classmethod
    def credential_env(cls) -> tuple[str, ...]:
        return tuple(cls.env_name(f) for f in cls.credential_fields)

    @classmethod
    def secret_env(cls) -> tuple[str, ...]:
        """Variables holding secrets: every `SecretStr` field."""
        return tuple(
            cls.env_name(name) for name, info in cls.model_fields.items() if "SecretStr" in str(info.annotation)
        )

    @classmethod
    def from_env(cls) -> SourceSettings:
        """Read the environment; a bad value raises `SettingsError` naming the variable."""
        try:
            return cls()
        except ValidationError as exc:
            problems = "; ".join(
                f"{cls.env_name(str(err['loc'][0]))}: {err['msg']} (got {err.get('input')!r})" for err in exc.errors()
            )
            raise SettingsError(f"Invalid setting: {problems}. See the README's configuration table.") from None

    @property
    def is_configured(self) -> bool:
        return all(getattr(self, f) for f in self.credential_fields)

    def values(self) -> dict[str, Any]:
        """Field values with secrets revealed: for building the connector, never for logging."""
        out = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            out[name] = value.get_secret_value() if isinstance(value, SecretStr) else value
        return out


class HubSpotSettings(SourceSettings):
    """HubSpot: `HUBSPOT_ACCESS_TOKEN` (a private-app token) enables it."""

    model_config = SettingsConfigDict(env_prefix="HUBSPOT_", extra="ignore", env_ignore_empty=True)
    credential_fields: ClassVar[tuple[str, ...]] = ("access_token",)

    access_token: SecretStr | None = None
    base_url: str = hubspot_defaults.BASE_URL
    rate_limit_per_10s: int | None = hubspot_defaults.RATE_LIMIT_PER_10S
    search_rate_per_s: float | None = hubspot_defaults.SEARCH_RATE_PER_S
    backoff_base_s: float = hubspot_defaults.BACKOFF_BASE_S
    full_sweep_hours: float = hubspot_defaults.FULL_SWEEP_HOURS
    timeout_s: float = hubspot_defaults.TIMEOUT_S
    overlap_minutes: int = hubspot_defaults.OVERLAP_MINUTES
    batch_size: int = hubspot_defaults.BATCH_SIZE
    max_concurrency: int | None = hubspot_defaults.MAX_CONCURRENCY

    _off = field_validator("rate_limit_per_10s", "search_rate_per_s", mode="before")(_off_to_none)


class PipedriveSettings(SourceSettings):
    """Pipedrive: `PIPEDRIVE_API_TOKEN` (a personal API token) enables it."""

    model_config = SettingsConfigDict(env_prefix="PIPEDRIVE_", extra="ignore", env_ignore_empty=True)
    credential_fields: ClassVar[tuple[str, ...]] = ("api_token",)

    api_token: SecretStr | None = None
    base_url: str = pipedrive_defaults.BASE_URL
    rate_limit_per_2s: int | None = pipedrive_defaults.RATE_LIMIT_PER_2S
    backoff_base_s: float = pipedrive_defaults.BACKOFF_BASE_S
    full_sweep_hours: float = pipedrive_defaults.FULL_SWEEP_HOURS
    timeout_s: float = pipedrive_defaults.TIMEOUT_S
    overlap_seconds: int = pipedrive_defaults.OVERLAP_SECONDS
    batch_size: int = pipedrive_defaults.BATCH_SIZE
    max_concurrency: int | None = pipedrive_defaults.MAX_CONCURRENCY

    _off = field_validator("rate_limit_per_2s", mode="before")(_off_to_none)


class GoogleAdsSettings(SourceSettings):
    """Google Ads: the developer token and the OAuth client + refresh token (all four) enable it."""

    model_config = SettingsConfigDict(env_prefix="GOOGLE_ADS_", extra="ignore", env_ignore_empty=True)
    credential_fields: ClassVar[tuple[str, ...]] = ("developer_token", "client_id", "client_secret", "refresh_token")

    developer_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    customer_ids: str | None = None
    login_customer_id: str | None = None
    base_url: str = google_ads_defaults.BASE_URL
    token_url: str = google_ads_defaults.TOKEN_URL
    api_version: str = google_ads_defaults.API_VERSION
    start_date: str | None = Field(default=None, validation_alias="ADS_START_DATE")
    reread_days: int = google_ads_defaults.REREAD_DAYS
    backoff_base_s: float = google_ads_defaults.BACKOFF_BASE_S
    timeout_s: float = google_ads_defaults.TIMEOUT_S


class MetaSettings(SourceSettings):
    """Meta: a system-user token and the ad account ids (both) enable it."""

    model_config = SettingsConfigDict(env_prefix="META_", extra="ignore", env_ignore_empty=True)
    credential_fields: ClassVar[tuple[str, ...]] = ("access_token", "ad_account_ids")

    access_token: SecretStr | None = None
    ad_account_ids: str | None = None
    base_url: str = meta_defaults.BASE_URL
    api_version: str = meta_defaults.API_VERSION
    start_date: str | None = Field(default=None, validation_alias="ADS_START_DATE")
    reread_days: int = meta_defaults.REREAD_DAYS
    page_limit: int = meta_defaults.PAGE_LIMIT
    backoff_base_s: float = meta_defaults.BACKOFF_BASE_S
    timeout_s: float = meta_defaults.TIMEOUT_S
