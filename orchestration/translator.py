"""The one place asset keys, groups and owners of dbt nodes are decided.

- dbt sources map onto the raw ingestion assets (`[raw schema, table]`, from the source's
  `meta.dagster.asset_key` or, failing that, `[source_name, table]`), so the UI shows one graph.
- models and seeds: key `[<layer folder>, <name>]`, group = layer folder (staging, intermediate,
  marts, seeds); owners from `meta.owner` when a model declares one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


def _layer(props: Mapping[str, Any]) -> str:
    if props["resource_type"] == "seed":
        return "seeds"
    fqn = props.get("fqn") or []
    return fqn[1] if len(fqn) > 2 else "default"


class WarehouseTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            meta_key = (dbt_resource_props.get("meta") or {}).get("dagster", {}).get("asset_key")
            if meta_key:
                return AssetKey(meta_key)
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return AssetKey([_layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return dbt_resource_props.get("schema")
        return _layer(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        owner = (dbt_resource_props.get("meta") or {}).get("owner") or (
            dbt_resource_props.get("config", {}).get("meta") or {}
        ).get("owner")
        return [owner] if owner else super().get_owners(dbt_resource_props)
