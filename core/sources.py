"""The sources the warehouse can pull from: one entry per CRM or marketing API.

Adding a source = a connector package exposing its raw `TableSchema`s and stream→tables map, an
emulator package, staging models, a settings class in `core/source_settings.py`, a resource that
builds it, and one entry here. Asset keys, groups and descriptions all derive
from this registry, never from hard-coded table names.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.common import TableSchema
from connectors.google_ads.schema import STREAM_TABLES as GOOGLE_ADS_STREAM_TABLES
from connectors.google_ads.schema import TABLES as GOOGLE_ADS_TABLES
from connectors.hubspot.schema import STREAM_TABLES as HUBSPOT_STREAM_TABLES
from connectors.hubspot.schema import TABLES as HUBSPOT_TABLES
from connectors.meta.schema import STREAM_TABLES as META_STREAM_TABLES
from connectors.meta.schema import TABLES as META_TABLES
from connectors.pipedrive.schema import STREAM_TABLES as PIPEDRIVE_STREAM_TABLES
from connectors.pipedrive.schema import TABLES as PIPEDRIVE_TABLES
from core.source_settings import GoogleAdsSettings, HubSpotSettings, MetaSettings, PipedriveSettings, SourceSettings


@dataclass(frozen=True)
class SourceDefinition:
    name: str
    """Short name used in keys and marts (`hubspot`)."""
    schema: str
    """Raw schema in the warehouse (`raw_hubspot`); also the asset group."""
    tables: dict[str, TableSchema]
    stream_tables: dict[str, tuple[str, ...]]
    """Stream → the raw tables one sync of it writes (first = the stream's own objects)."""
    settings: type[SourceSettings]
    """Its environment settings: credentials, secrets, tunables and their defaults."""
    resource_key: str

    @property
    def credential_env(self) -> tuple[str, ...]:
        """Environment variables that must all be set to enable the source."""
        return self.settings.credential_env()

    def is_configured(self) -> bool:
        return self.settings.from_env().is_configured


HUBSPOT = SourceDefinition(
    name="hubspot",
    schema="raw_hubspot",
    tables=HUBSPOT_TABLES,
    stream_tables=HUBSPOT_STREAM_TABLES,
    settings=HubSpotSettings,
    resource_key="hubspot",
)

PIPEDRIVE = SourceDefinition(
    name="pipedrive",
    schema="raw_pipedrive",
    tables=PIPEDRIVE_TABLES,
    stream_tables=PIPEDRIVE_STREAM_TABLES,
    settings=PipedriveSettings,
    resource_key="pipedrive",
)

# Marketing sources: campaign spend per day (docs/metrics.md).
GOOGLE_ADS = SourceDefinition(
    name="google_ads",
    schema="raw_google_ads",
    tables=GOOGLE_ADS_TABLES,
    stream_tables=GOOGLE_ADS_STREAM_TABLES,
    settings=GoogleAdsSettings,
    resource_key="google_ads",
)
META = SourceDefinition(
    name="meta",
    schema="raw_meta",
    tables=META_TABLES,
    stream_tables=META_STREAM_TABLES,
    settings=MetaSettings,
    resource_key="meta",
)

SOURCES: tuple[SourceDefinition, ...] = (HUBSPOT, PIPEDRIVE, GOOGLE_ADS, META)

# Variables of sources whose connector is not built yet, still named in "no source configured".
PLANNED_CREDENTIAL_ENV: tuple[str, ...] = ()

# Every variable that enables some source, for the "no source configured" message.
ALL_CREDENTIAL_ENV: tuple[str, ...] = tuple(v for s in SOURCES for v in s.credential_env) + PLANNED_CREDENTIAL_ENV

# Secrets that are not a source's (a Slack webhook URL embeds one).
OTHER_SECRET_ENV: tuple[str, ...] = ("ALERT_WEBHOOK_URL", "PGPASSWORD")

# Every variable holding a secret: never passed to dbt, never logged. Derived from the settings
# classes (their `SecretStr` fields), so a new source's secrets are covered by construction.
SECRET_ENV_VARS: tuple[str, ...] = (
    tuple(v for s in SOURCES for v in s.settings.secret_env()) + PLANNED_CREDENTIAL_ENV + OTHER_SECRET_ENV
)

# Name patterns treated as secret as well (a safety net for variables no settings class declares).
# (PGPASSWORD is listed above; core/dbt_cli.py hands it to dbt only on the postgres target.)
SECRET_NAME_MARKERS: tuple[str, ...] = ("_TOKEN", "_SECRET", "_API_KEY")


def is_secret_env(name: str) -> bool:
    upper = name.upper()
    return name in SECRET_ENV_VARS or any(m in upper for m in SECRET_NAME_MARKERS)


def configured_source_names() -> list[str]:
    """The sources whose credentials are all set in the environment (the others are skipped)."""
    return [s.name for s in SOURCES if s.is_configured()]
