"""The sources the warehouse can pull from: one entry per CRM or marketing API.

Adding a source = a connector package exposing its raw `TableSchema`s and stream→tables map,
a resource that builds it, and one entry here. Asset keys, groups and descriptions all derive
from this registry, never from hard-coded table names.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.common import TableSchema
from connectors.hubspot.schema import STREAM_TABLES as HUBSPOT_STREAM_TABLES
from connectors.hubspot.schema import TABLES as HUBSPOT_TABLES


@dataclass(frozen=True)
class SourceDefinition:
    name: str
    """Short name used in keys and marts (`hubspot`)."""
    schema: str
    """Raw schema in the warehouse (`raw_hubspot`); also the asset group."""
    tables: dict[str, TableSchema]
    stream_tables: dict[str, tuple[str, ...]]
    """Stream → the raw tables one sync of it writes (first = the stream's own objects)."""
    credential_env: tuple[str, ...]
    """Environment variables whose presence enables the source."""
    resource_key: str


HUBSPOT = SourceDefinition(
    name="hubspot",
    schema="raw_hubspot",
    tables=HUBSPOT_TABLES,
    stream_tables=HUBSPOT_STREAM_TABLES,
    credential_env=("HUBSPOT_ACCESS_TOKEN",),
    resource_key="hubspot",
)

SOURCES: tuple[SourceDefinition, ...] = (HUBSPOT,)

# Every variable that enables some source, for the "no source configured" message.
ALL_CREDENTIAL_ENV: tuple[str, ...] = (
    "HUBSPOT_ACCESS_TOKEN",
    "PIPEDRIVE_API_TOKEN",
)


def configured_source_names() -> list[str]:
    """The sources whose credentials are all set in the environment (the others are skipped)."""
    import os

    return [s.name for s in SOURCES if all(os.environ.get(v) for v in s.credential_env)]
