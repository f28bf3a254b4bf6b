"""Numeric metadata on dbt model materializations, declared in the model's own YAML.

A model opts in with ``config.meta.dagster.metadata_query``: a query whose rows are
``(name, value)`` pairs, ``{relation}`` standing for the model's table. After the dbt build,
each such model's materialization carries one float entry per row, so the Dagster UI plots the
values over runs (e.g. next month's forecast per method, the back-tested WAPE). No model name
is written here.

The queries run once dbt has finished (the dbt process holds the DuckDB file while it runs),
together with the row counts and KPIs (`orchestration/assets/dbt.py`). A failing query logs a
warning and leaves that model's metadata out; it never fails the run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetKey, MetadataValue

from orchestration.translator import WarehouseTranslator

META_KEY = "metadata_query"


def _meta(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return (node.get("config", {}).get("meta") or node.get("meta") or {}).get("dagster") or {}


def node_metadata_query(node: Mapping[str, Any]) -> str | None:
    """The model's metadata query with its relation filled in, or None."""
    query = _meta(node).get(META_KEY)
    if node.get("resource_type") != "model" or not query:
        return None
    relation = f'"{node["schema"]}"."{node.get("alias") or node["name"]}"'
    return str(query).replace("{relation}", relation)


def metadata_queries(manifest: Mapping[str, Any] | Path) -> dict[AssetKey, str]:
    """{asset key: query with the model's relation filled in} for every model declaring one."""
    if not isinstance(manifest, Mapping):
        manifest = json.loads(Path(manifest).read_text(encoding="utf-8"))
    translator = WarehouseTranslator()
    out: dict[AssetKey, str] = {}
    for node in manifest.get("nodes", {}).values():
        query = node_metadata_query(node)
        if query:
            out[translator.get_asset_key(node)] = query
    return out


def read_metadata(con: Any, query: str) -> dict[str, MetadataValue]:
    """The ``(name, value)`` rows of ``query`` as float metadata (null values left out)."""
    return {
        str(name): MetadataValue.float(float(value))
        for name, value in con.execute(query).fetchall()
        if value is not None
    }
