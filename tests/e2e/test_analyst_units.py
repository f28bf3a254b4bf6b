"""Pure pieces behind what analysts see: check descriptions, owners, the KPI query, the
maturity quantile, the report's formatting and the demo's progress lines."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest

from cli.console import Console, DemoProgress
from orchestration.assets.dbt import facts_query
from orchestration.translator import check_description, owner_of
from tests.reference.analyst import owner_name, quantile_cont
from warehouse.report.build import fmt, raw


def test_generic_and_singular_test_descriptions():
    def generic(name, **kwargs):
        return {"name": "t", "test_metadata": {"name": name, "kwargs": kwargs}}

    assert check_description(generic("not_null", column_name="deal_id")) == "`deal_id` is never null."
    folded = generic("not_null_columns", arguments={"column_names": ["deal_id", "source"]})
    assert check_description(folded) == "None of `deal_id`, `source` is ever null."
    assert "(`source`, `owner_id`)" in check_description(generic("unique", column_name="source || '|' || owner_id"))
    assert "open, won" in check_description(generic("accepted_values", column_name="outcome", values=["open", "won"]))
    rel = generic("relationships", column_name="deal_id", to="ref('fct_deals')", field="deal_id")
    assert check_description(rel) == "Every `deal_id` exists as `deal_id` in `fct_deals`."
    singular = {"name": "assert_x", "raw_code": "-- Every stage maps.\n-- Second line.\nselect 1"}
    assert check_description(singular) == "Every stage maps. Second line."
    assert check_description({"name": "x", "description": "Own words."}) == "Own words."


def test_owner_from_meta_is_an_email_or_a_team():
    assert owner_of({"config": {"meta": {"owner": "team:analytics"}}}) == "team:analytics"
    assert owner_of({"meta": {"owner": "analytics"}}) == "team:analytics"
    assert owner_of({"meta": {"owner": "ana@example.com"}}) == "ana@example.com"
    assert owner_of({"meta": {}}) is None


def test_facts_query_counts_tables_and_adds_declared_kpis_only():
    node = {
        "resource_type": "model",
        "schema": "marts",
        "name": "fct_deals",
        "alias": "fct_deals",
        "config": {"materialized": "table", "meta": {"kpis": {"won": "sum(x)"}}},
    }
    assert facts_query(node) == 'select count(*) as "dagster/row_count", sum(x) as "won" from "marts"."fct_deals"'
    assert facts_query({**node, "config": {"materialized": "view"}}) is None
    view_with_kpis = {**node, "config": {"materialized": "view", "meta": {"kpis": {"won": "sum(x)"}}}}
    assert facts_query(view_with_kpis) == facts_query(node)


def test_quantile_interpolates_linearly_between_closest_ranks():
    assert quantile_cont([0, 1, 11], 0.9) == pytest.approx(9.0)
    assert quantile_cont([5], 0.9) == 5
    assert quantile_cont([], 0.9) is None
    assert owner_name(" Ana ", None, "a@x", "7") == "Ana"
    assert owner_name("", "", "", "7") == "owner 7"


def test_report_formats_and_keeps_raw_values():
    assert fmt(0.2235, "pct") == "22.4%" and fmt(1949, "int") == "1,949" and fmt(None, "int") == "n/a"
    assert fmt(16885.4, "money", "USD") == "16,885 USD" and fmt(42.71, "days") == "42.7 d"
    assert raw(0.1) == "0.1" and raw(None) == ""


def test_demo_progress_prints_one_line_per_finished_step():
    out = io.StringIO()
    progress = DemoProgress(Console(out))

    def entry(kind, step="warehouse_dbt_models", **data):
        event = SimpleNamespace(event_type=SimpleNamespace(name=kind), event_specific_data=SimpleNamespace(**data))
        return SimpleNamespace(dagster_event=event, step_key=step, run_id="r1")

    progress(entry("ASSET_MATERIALIZATION"))
    progress(entry("ASSET_CHECK_EVALUATION", passed=True))
    progress(entry("ASSET_CHECK_EVALUATION", passed=False))
    progress(entry("STEP_SUCCESS", duration_ms=1500))
    progress(entry("RUN_SUCCESS", step=None))
    lines = out.getvalue().splitlines()
    assert lines[0].split() == [
        "ok",
        "warehouse_dbt_models",
        "1.5s",
        "1",
        "asset(s),",
        "1",
        "check(s)",
        "passed,",
        "1",
        "failed",
    ]
    assert "run r1 succeeded" in lines[1]


def test_every_dbt_column_is_described_and_no_description_is_a_placeholder():
    from orchestration.project import dbt_project

    manifest = json.loads(dbt_project.manifest_path.read_text())
    undescribed, added = [], []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        for column in node["columns"].values():
            text = (column.get("description") or "").strip()
            if not text:
                undescribed.append(f"{node['name']}.{column['name']}")
            if text.startswith("(Added)"):
                added.append(f"{node['name']}.{column['name']}")
    assert not undescribed, undescribed[:10]
    assert not added, added
