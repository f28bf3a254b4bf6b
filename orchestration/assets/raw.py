"""Raw ingestion assets: one multi-asset per source, one asset key per raw table.

A source's streams sync together in one step (``warehouse.sync.sync_streams``: each stream
fetched in its own thread under the account's one rate limiter, one writer committing each
stream's batches in order), because Dagster's in-process executor runs steps one after another.
Selecting some of a source's tables syncs only the streams that write them. Built from the source
registry, so a new source or table needs no change here.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Failure,
    MaterializeResult,
    TableColumn,
    TableColumnConstraints,
    multi_asset,
)
from dagster import TableSchema as DagsterTableSchema

from connectors.common import TableSchema
from core.sources import SOURCES, SourceDefinition
from warehouse.loader import LOAD_COLUMNS, RawLoader
from warehouse.sync import StreamReport, sync_streams

SKIPPED = "skipped: not configured"
RAW_OWNER = "team:data-engineering"
LOAD_COLUMN_DESCRIPTIONS = {
    "_loaded_at": "When the loader wrote this version of the record (UTC).",
    "_sync_id": "The Dagster run that loaded it.",
    "_is_deleted": "A full id sweep no longer found the record upstream (hard delete).",
}


def column_schema(table: TableSchema) -> DagsterTableSchema:
    """The raw table's columns as the connector declares them, plus the loader's own columns."""
    columns = [
        TableColumn(
            name=name,
            type=dtype,
            description="Primary key (with the other key columns)." if name in table.key else "As the API sends it.",
            constraints=TableColumnConstraints(nullable=name not in table.key),
        )
        for name, dtype in table.columns.items()
    ]
    columns += [
        TableColumn(name=name, type=dtype, description=LOAD_COLUMN_DESCRIPTIONS.get(name, "Load metadata."))
        for name, dtype in LOAD_COLUMNS.items()
    ]
    return DagsterTableSchema(columns=columns)


def raw_asset_key(source: SourceDefinition, table: str) -> AssetKey:
    return AssetKey([source.schema, table])


def _table_metadata(loader: RawLoader, table: str) -> dict[str, object]:
    total = loader.count_all(table)
    live = loader.count_live(table)
    return {"dagster/row_count": live, "rows_flagged_deleted_upstream": total - live}


def _spec(source: SourceDefinition, table: str) -> AssetSpec:
    return AssetSpec(
        key=raw_asset_key(source, table),
        group_name=source.schema,
        kinds={"python", "duckdb", source.name},
        description=source.tables[table].description or f"{source.name} {table} (raw).",
        owners=[RAW_OWNER],
        metadata={
            "dagster/table_name": f"{source.schema}.{table}",
            "dagster/column_schema": column_schema(source.tables[table]),
        },
        skippable=True,
    )


def _stream_metadata(report: StreamReport) -> dict[str, object]:
    return {
        "sync_modes": ", ".join(report.modes) or "no changes",
        "batches": report.batches,
        "api_live_total": report.api_total,
        "warehouse_live_total": report.warehouse_total,
        "totals_match": report.totals_match,
        "sync_seconds": round(report.seconds, 2),
    }


def _build_source_asset(source: SourceDefinition):
    streams_of = source.stream_tables

    @multi_asset(
        name=source.schema,
        specs=[_spec(source, table) for tables in streams_of.values() for table in tables],
        can_subset=True,
        required_resource_keys={source.resource_key, "duckdb"},
        description=f"Sync the {source.name} streams ({', '.join(streams_of)}) into {source.schema}, together.",
    )
    def _sync(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        selected = context.selected_asset_keys
        streams = {
            stream: tables
            for stream, tables in streams_of.items()
            if any(raw_asset_key(source, t) in selected for t in tables)
        }
        resource = getattr(context.resources, source.resource_key)
        warehouse = context.resources.duckdb  # orchestration.resources.WarehouseResource
        with warehouse.raw_loader(source) as loader:
            if not resource.is_configured:
                context.log.warning(
                    f"{source.name} is not configured ({', '.join(source.credential_env)} unset): "
                    f"{', '.join(streams)} skipped; existing rows in {source.schema} are kept."
                )
                for tables in streams.values():
                    for table in tables:
                        if raw_asset_key(source, table) in selected:
                            yield MaterializeResult(
                                asset_key=raw_asset_key(source, table),
                                metadata={"status": SKIPPED, **_table_metadata(loader, table)},
                            )
                return

            def progress(message: str, counters: dict[str, object]) -> None:  # noqa: ARG001
                context.log.info(message)

            built = resource.build_source(progress)
            # streams together where the client bounds its requests in flight (HubSpot, Pipedrive)
            client = getattr(built, "client", None)
            together = int(getattr(client, "max_concurrency", 1) or 1) > 1
            reports = sync_streams(
                built,
                loader,
                {stream: tables[0] for stream, tables in streams.items()},
                sync_id=context.run.run_id,
                now=datetime.now(UTC),
                progress=progress,
                raise_on_failure=False,
                concurrent=together,
            )
            failed: list[str] = []
            for stream, tables in streams.items():
                report = reports[stream]
                context.log.info(report.summary())
                if report.error is not None:
                    failed.append(f"{stream}: {report.error}")
                    continue
                if report.totals_match is False:
                    context.log.warning(
                        f"{source.name} {stream}: the API reports {report.api_total} live records, "
                        f"the warehouse holds {report.warehouse_total}. Records may have changed "
                        "during the sync (eventual consistency); if it persists, resync with "
                        f"`make reset-cursors SOURCE={source.name}`."
                    )
                for table in tables:
                    if raw_asset_key(source, table) not in selected:
                        continue
                    metadata: dict[str, object] = {
                        "status": "synced",
                        "rows_written": report.rows_by_table.get(table, 0),
                        **_table_metadata(loader, table),
                    }
                    if table == tables[0]:
                        metadata.update(_stream_metadata(report))
                    yield MaterializeResult(asset_key=raw_asset_key(source, table), metadata=metadata)
            if failed:
                raise Failure(
                    description=f"{source.name}: {len(failed)} of {len(streams)} streams failed (their batches "
                    "committed so far are kept; the next run resumes from their cursors). " + " | ".join(failed)
                )

    return _sync


def build_raw_assets() -> list:
    return [_build_source_asset(source) for source in SOURCES]
