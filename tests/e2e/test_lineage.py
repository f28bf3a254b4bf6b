"""The UI shows one lineage graph: every dbt source is a raw ingestion asset, every staging model
depends on its raw assets, and keys and groups come from the translator and the source registry."""

from __future__ import annotations

from dagster import AssetKey


def _graph():
    from orchestration.definitions import defs

    return defs.resolve_asset_graph()


def test_every_staging_model_depends_on_its_raw_asset():
    graph = _graph()
    staging = [k for k in graph.get_all_asset_keys() if k.path[0] == "staging"]
    assert len(staging) >= 8
    from core.sources import SOURCES

    raw_keys = {k for k in graph.get_all_asset_keys() if k.path[0] in {s.schema for s in SOURCES}}

    def upstream_raw(key: AssetKey, seen: set) -> set:
        found = set()
        for parent in graph.get(key).parent_keys:
            if parent in seen:
                continue
            seen.add(parent)
            found |= {parent} if parent in raw_keys else upstream_raw(parent, seen)
        return found

    for key in staging:
        assert upstream_raw(key, set()), f"{key.to_user_string()} has no raw ancestor"
    changes = graph.get(AssetKey(["staging", "stg_pipedrive__deal_stage_changes"]))
    assert AssetKey(["raw_pipedrive", "deal_flow"]) in changes.parent_keys
    deals = graph.get(AssetKey(["staging", "stg_hubspot__deals"]))
    assert AssetKey(["raw_hubspot", "deals"]) in deals.parent_keys
    changes = graph.get(AssetKey(["staging", "stg_hubspot__deal_property_changes"]))
    assert AssetKey(["raw_hubspot", "deal_property_history"]) in changes.parent_keys
    changes = graph.get(AssetKey(["staging", "stg_pipedrive__deal_property_changes"]))
    assert AssetKey(["raw_pipedrive", "deal_flow"]) in changes.parent_keys
    # the pipeline snapshots read both CRMs' property histories
    unioned = graph.get(AssetKey(["intermediate", "int_deal_property_changes_unioned"])).parent_keys
    assert {AssetKey(["staging", f"stg_{s}__deal_property_changes"]) for s in ("hubspot", "pipedrive")} <= unioned
    # the spend marts sit in the same graph, next to the CRM sources
    roi = upstream_raw(AssetKey(["marts", "mart_marketing_roi_monthly"]), set())
    assert {k.path[0] for k in roi} == {"raw_hubspot", "raw_pipedrive", "raw_google_ads", "raw_meta"}
    stats = graph.get(AssetKey(["staging", "stg_google_ads__campaign_stats"]))
    assert AssetKey(["raw_google_ads", "campaign_stats"]) in stats.parent_keys
    insights = graph.get(AssetKey(["staging", "stg_meta__campaign_insights"]))
    assert AssetKey(["raw_meta", "campaign_insights"]) in insights.parent_keys


def test_raw_assets_are_grouped_and_described_and_sources_are_not_duplicated():
    graph = _graph()
    from core.sources import SOURCES

    for source in SOURCES:
        for table in source.tables:
            node = graph.get(AssetKey([source.schema, table]))
            assert node.group_name == source.schema
            assert node.is_materializable, f"{table} must be a real ingestion asset, not an external source"
            assert "duckdb" in node.kinds and source.name in node.kinds
            assert node.description
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys() if k.path[0] == "staging"}
    assert groups == {"staging"}


def test_dbt_tests_become_asset_checks_on_models_and_sources():
    graph = _graph()
    check_keys = graph.asset_check_keys
    assert any(c.asset_key == AssetKey(["staging", "stg_hubspot__deals"]) for c in check_keys)
    assert any(c.asset_key == AssetKey(["raw_hubspot", "deals"]) for c in check_keys)


def test_daily_schedule_refreshes_everything():
    from orchestration.definitions import defs

    schedule = defs.resolve_schedule_def("daily_refresh")
    assert schedule.cron_schedule == "0 6 * * *"
    job = defs.resolve_job_def(schedule.job_name)
    assert job.executor_def.name == "in_process"
