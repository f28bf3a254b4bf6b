"""All dbt models, seeds and tests as Dagster assets and asset checks (one `dbt build`).

Each table's materialization carries numeric metadata Dagster plots run over run: its row count
(`dagster/row_count`) and, for models whose YAML declares `config.meta.kpis` (name → SQL
aggregate over the model's rows), those headline figures. They are read once dbt has finished
(DuckDB has a single writer: no second connection while dbt holds the file), so the run's events
are collected first and yielded, in dbt's order, with the figures attached. Column schemas and
column-level lineage come from dbt itself (the `log_column_metadata_for_dagster` post-hook).
"""

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dagster import AssetExecutionContext, AssetMaterialization, MetadataValue, Output
from dagster_dbt import DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from core.settings import SECRET_ENV_VARS, as_of_date, resolve_path
from orchestration.project import dbt_project
from orchestration.translator import WarehouseTranslator

TABLE_MATERIALIZATIONS = {"table", "incremental", "seed"}


@contextmanager
def dbt_environment(warehouse: str) -> Iterator[None]:
    """Point dbt at the warehouse file and keep API secrets out of the dbt process."""
    saved = dict(os.environ)
    os.environ["DBT_DUCKDB_PATH"] = str(resolve_path(warehouse))
    for name in SECRET_ENV_VARS:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def facts_query(node: Mapping[str, Any]) -> str | None:
    """`select count(*), <kpi>, ...` over a built table, or None for views and tests."""
    config = node.get("config") or {}
    materialized = "seed" if node.get("resource_type") == "seed" else config.get("materialized")
    if materialized not in TABLE_MATERIALIZATIONS:
        return None
    kpis = (config.get("meta") or {}).get("kpis") or (node.get("meta") or {}).get("kpis") or {}
    columns = ['count(*) as "dagster/row_count"'] + [f"{expr} as {_quoted(name)}" for name, expr in kpis.items()]
    relation = f"{_quoted(node['schema'])}.{_quoted(node.get('alias') or node['name'])}"
    return f"select {', '.join(columns)} from {relation}"


def _numeric(value: Any) -> MetadataValue | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return MetadataValue.int(value)
    try:
        return MetadataValue.float(float(value))
    except (TypeError, ValueError):
        return None


def table_facts(con: Any, node: Mapping[str, Any]) -> dict[str, MetadataValue]:
    query = facts_query(node)
    if query is None:
        return {}
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    return {name: value for name, raw in zip(names, row, strict=True) if (value := _numeric(raw)) is not None}


def with_facts(event: Any, manifest: Mapping[str, Any], con: Any, log: Any) -> Any:
    """The event with its table's row count and KPIs added (materializations only)."""
    if not isinstance(event, Output | AssetMaterialization):
        return event
    unique_id = getattr(event.metadata.get("unique_id"), "value", None)
    node = manifest.get("nodes", {}).get(unique_id) if unique_id else None
    if node is None:
        return event
    try:
        facts = table_facts(con, node)
    except Exception as exc:  # a wrong KPI expression must not lose the materialization
        log.warning(f"Could not compute the row count / KPIs of {node['name']}: {exc}")
        return event
    return event.with_metadata({**event.metadata, **facts}) if facts else event


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=WarehouseTranslator(),
)
def warehouse_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource):
    dbt_vars = {"as_of_date": as_of_date().isoformat()}
    context.log.info(f"dbt build with as_of_date={dbt_vars['as_of_date']}")
    with dbt_environment(duckdb.database):
        invocation = dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context)
    events, failure = [], None
    try:
        events.extend(invocation.stream())
    except Exception as exc:  # re-raised after the events of what did build are yielded
        failure = exc
    with duckdb.get_connection() as con:
        enriched = [with_facts(event, invocation.manifest, con, context.log) for event in events]
    yield from enriched
    if failure is not None:
        raise failure
