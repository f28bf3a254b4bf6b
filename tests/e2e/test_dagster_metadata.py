"""What a person sees in the Dagster UI: owners, clean descriptions, column schemas, described
checks, and on every mart materialization its row count, its KPIs and column lineage."""

from __future__ import annotations

import pytest
from dagster import AssetKey, DagsterInstance

from tests.reference.funnel import marts_from_truth


def _graph():
    from orchestration.definitions import defs

    return defs.resolve_asset_graph()


def test_every_asset_has_an_owner_a_clean_description_and_a_column_schema():
    graph = _graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if not node.is_materializable or key.path[0] == "published":
            continue
        name = key.to_user_string()
        assert node.owners, f"{name} has no owner"
        assert all(o.startswith("team:") or "@" in o for o in node.owners)
        assert node.description and "Raw SQL" not in node.description, f"{name}: {node.description[:80]}"
        assert "{{" not in node.description and "select" not in node.description.lower().split()
        assert "dagster_dbt/project" not in node.metadata, f"{name} carries the unserializable DbtProject"
        if key.path[0] != "seeds":
            assert "dagster/column_schema" in node.metadata, f"{name} has no column schema"


def test_raw_column_schemas_list_the_api_columns_and_the_load_columns():
    node = _graph().get(AssetKey(["raw_hubspot", "deals"]))
    schema = node.metadata["dagster/column_schema"]
    columns = {c.name: c for c in getattr(schema, "schema", schema).columns}
    assert {"id", "dealstage", "amount", "_loaded_at", "_sync_id", "_is_deleted"} <= set(columns)
    assert columns["id"].constraints.nullable is False


def test_every_check_has_a_description():
    from orchestration.definitions import defs

    specs = [spec for a in defs.assets for spec in getattr(a, "check_specs", [])]
    specs += [spec for c in defs.asset_checks or [] for spec in c.check_specs]
    assert len(specs) > 100
    missing = [s.name for s in specs if not (s.description or "").strip()]
    assert not missing, f"checks without a description: {missing[:10]}"
    unique = next(s for s in specs if s.name == "unique_fct_deals_deal_id")
    assert "`deal_id`" in unique.description and "unique" in unique.description


@pytest.mark.slow
def test_mart_materializations_carry_row_counts_kpis_and_column_lineage(demo_warehouse):
    ref = marts_from_truth(
        demo_warehouse.truth, as_of_date=demo_warehouse.as_of_date, seeds_dir=demo_warehouse.seeds_dir
    )
    won = sum(1 for d in ref["fct_deals"] if d["outcome"] == "won")
    lost = sum(1 for d in ref["fct_deals"] if d["outcome"] == "lost")
    with DagsterInstance.local_temp(str(demo_warehouse.dagster_home)) as instance:
        deals = instance.get_latest_materialization_event(AssetKey(["marts", "fct_deals"]))
        leads = instance.get_latest_materialization_event(AssetKey(["marts", "mart_lead_volume_daily"]))
        dims = instance.get_latest_materialization_event(AssetKey(["marts", "dim_pipeline_stages"]))
    md = deals.asset_materialization.metadata
    assert md["dagster/row_count"].value == len(ref["fct_deals"])
    assert md["won_deals"].value == won and md["lost_deals"].value == lost
    assert md["win_rate"].value == pytest.approx(won / (won + lost), rel=1e-12)
    lineage = md["dagster/column_lineage"].value.deps_by_column
    # the lead's channel, else the deal's own (Pipedrive keeps a channel on the deal)
    assert {d.asset_key for d in lineage["lead_channel"]} == {
        AssetKey(["intermediate", "int_leads_unioned"]),
        AssetKey(["intermediate", "int_deals_unioned"]),
    }
    lead_md = leads.asset_materialization.metadata
    assert lead_md["new_leads"].value == sum(r["new_leads"] for r in ref["mart_lead_volume_daily"])
    assert dims.asset_materialization.metadata["dagster/row_count"].value > 0
