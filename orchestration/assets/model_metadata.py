"""Numeric metadata on dbt model materializations, declared in the model's own YAML.

A model opts in with ``config.meta.dagster.metadata_query``: a query whose rows are
``(name, value)`` pairs, ``{relation}`` standing for the model's table. After the dbt build,
each such model's materialization carries one float entry per row, so the Dagster UI plots the
values over runs (e.g. next month's forecast per method, the back-tested WAPE). No model name
is written here.

The queries run once dbt has finished (the dbt process holds the DuckDB file while it runs), so
those models' materializations are reported at the end of the build. A failing query logs a
warning and leaves that model's metadata out; it never fails the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, MetadataValue, Output
from dagster_duckdb import DuckDBResource

from orchestration.translator import WarehouseTranslator

META_KEY = "metadata_query"


def _meta(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return (node.get("config", {}).get("meta") or node.get("meta") or {}).get("dagster") or {}


def metadata_queries(manifest: Mapping[str, Any] | Path) -> dict[AssetKey, str]:
    """{asset key: query with the model's relation filled in} for every model declaring one."""
    if not isinstance(manifest, Mapping):
        manifest = json.loads(Path(manifest).read_text(encoding="utf-8"))
    translator = WarehouseTranslator()
    out: dict[AssetKey, str] = {}
    for node in manifest.get("nodes", {}).values():
        query = _meta(node).get(META_KEY)
        if node.get("resource_type") != "model" or not query:
            continue
        relation = f'"{node["schema"]}"."{node.get("alias") or node["name"]}"'
        out[translator.get_asset_key(node)] = query.replace("{relation}", relation)
    return out


def read_metadata(con: Any, query: str) -> dict[str, MetadataValue]:
    """The ``(name, value)`` rows of ``query`` as float metadata (null values left out)."""
    return {
        str(name): MetadataValue.float(float(value))
        for name, value in con.execute(query).fetchall()
        if value is not None
    }


def with_model_metadata(
    events: Iterable[Any], context: AssetExecutionContext, duckdb: DuckDBResource, queries: Mapping[AssetKey, str]
) -> Iterator[Any]:
    """Pass dbt's events through; hold the outputs of models with a metadata query and yield
    them, with the query's values added, once the build is over."""
    held: list[tuple[Output, AssetKey]] = []
    for event in events:
        if isinstance(event, Output) and queries:
            key = context.asset_key_for_output(event.output_name)
            if key in queries:
                held.append((event, key))
                continue
        yield event
    if not held:
        return
    with duckdb.get_connection() as con:
        for event, key in held:
            try:
                extra = read_metadata(con, queries[key])
            except Exception as exc:  # metadata is a convenience: report, never fail the run
                context.log.warning(f"metadata query of {key.to_user_string()} failed: {exc}")
                extra = {}
            yield event.with_metadata({**(event.metadata or {}), **extra})
