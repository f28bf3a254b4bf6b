"""Metadata queries declared in dbt YAML (`meta.dagster.metadata_query`)."""

from __future__ import annotations

import duckdb
from dagster import AssetKey

from orchestration.assets.model_metadata import metadata_queries, read_metadata
from orchestration.project import dbt_project


def test_queries_come_from_the_models_yaml_with_their_relation():
    queries = metadata_queries(dbt_project.manifest_path)
    for name in ("mart_forecast_monthly", "mart_forecast_accuracy"):
        query = queries[AssetKey(["marts", name])]
        assert f'"marts"."{name}"' in query and "{relation}" not in query
    assert AssetKey(["marts", "fct_deals"]) not in queries


def test_read_metadata_turns_rows_into_floats_and_skips_nulls():
    manifest = {
        "nodes": {
            "model.p.m": {
                "resource_type": "model",
                "name": "m",
                "alias": "m",
                "schema": "marts",
                "fqn": ["p", "marts", "m"],
                "config": {"meta": {"dagster": {"metadata_query": "select name, value from {relation}"}}},
            }
        }
    }
    query = metadata_queries(manifest)[AssetKey(["marts", "m"])]
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.m as select * from (values ('a', 1), ('b', null), ('c', 2.5)) t(name, value)")
    values = read_metadata(con, query)
    assert {k: v.value for k, v in values.items()} == {"a": 1.0, "c": 2.5}
