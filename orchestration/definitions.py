"""The Dagster code location: raw ingestion assets, dbt assets, the daily schedule, resources.

Writes to DuckDB are serialized: every step runs in one process (in-process executor, which
also avoids the multiprocess executor's per-step start-up cost) and the instance's run queue
allows one run at a time (see `orchestration/instance.py`).
"""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    in_process_executor,
    schedule,
)
from dagster_dbt import DbtCliResource

from core.dbt_cli import dbt_executable
from core.settings import warehouse_path, warehouse_target
from core.sources import configured_source_names
from orchestration.assets.dbt import warehouse_dbt_models
from orchestration.assets.publish import published_marts
from orchestration.assets.raw import build_raw_assets
from orchestration.checks import anomaly_checks  # funnel anomaly checks (warehouse/anomaly)
from orchestration.project import dbt_project
from orchestration.quarantine_check import quarantined_records  # ERROR, never blocking
from orchestration.resources import (
    GoogleAdsResource,
    HubSpotResource,
    MetaResource,
    PipedriveResource,
    WarehouseResource,
)
from orchestration.sensors import sensors as alert_sensors  # failed checks -> ALERT_WEBHOOK_URL

REFRESH_JOB_NAME = "refresh_all"


def build_resources(
    warehouse: str | None = None,
    hubspot: HubSpotResource | None = None,
    pipedrive: PipedriveResource | None = None,
    google_ads: GoogleAdsResource | None = None,
    meta: MetaResource | None = None,
) -> dict:
    return {
        # key "duckdb": every step reads the warehouse through a DuckDB connection (any engine)
        "duckdb": WarehouseResource(database=str(warehouse or warehouse_path()), target=warehouse_target()),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable(), target=warehouse_target()),
        "hubspot": hubspot or HubSpotResource.from_env(),
        "pipedrive": pipedrive or PipedriveResource.from_env(),
        "google_ads": google_ads or GoogleAdsResource.from_env(),
        "meta": meta or MetaResource.from_env(),
    }


raw_assets = build_raw_assets()
all_assets = [*raw_assets, warehouse_dbt_models, published_marts]

refresh_all = define_asset_job(
    REFRESH_JOB_NAME,
    selection=AssetSelection.all(),
    description="Incremental syncs of every configured source, then dbt build (models + checks).",
    executor_def=in_process_executor,
)


@schedule(
    name="daily_refresh",
    job=refresh_all,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description=(
        "Every day at 06:00 UTC: sync every configured source, then rebuild dbt. Off by default "
        "(turn it on in the UI); skips the tick when no source is configured, so it never "
        "rebuilds a sandbox warehouse as of the wrong day."
    ),
)
def daily_refresh(context: ScheduleEvaluationContext):  # noqa: ARG001
    sources = configured_source_names()
    if not sources:
        return SkipReason("No source is configured (see the README's configuration table): nothing to refresh.")
    return RunRequest(tags={"sources": ",".join(sources)})


defs = Definitions(
    assets=all_assets,
    jobs=[refresh_all],
    schedules=[daily_refresh],
    asset_checks=[*anomaly_checks, quarantined_records],  # funnel anomaly + quarantine checks
    sensors=alert_sensors,  # posts failed checks to ALERT_WEBHOOK_URL
    resources=build_resources(),
    executor=in_process_executor,
)
