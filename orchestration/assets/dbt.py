"""All dbt models, seeds and tests as Dagster assets and asset checks (one `dbt build`).

Each table's materialization carries numeric metadata Dagster plots run over run: its row count
(`dagster/row_count`) and, for models whose YAML declares `config.meta.kpis` (name → SQL
aggregate over the model's rows), those headline figures, and for models declaring
`config.meta.dagster.metadata_query` (rows of name, value: e.g. the forecast per month and
method), one figure per row. They are read once dbt has finished
(DuckDB has a single writer: no second connection while dbt holds the file), so the run's events
are collected first and yielded, in dbt's order, with the figures attached. Column schemas and
column-level lineage come from dbt itself (the `log_column_metadata_for_dagster` post-hook).
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

from dagster import AssetExecutionContext, AssetMaterialization, MetadataValue, Output
from dagster_dbt import DbtCliResource, dbt_assets

from core.dbt_cli import PIPELINE_BUILD_ARGS, dbt_env, pipeline_target_path
from core.settings import as_of_date, resolve_path
from orchestration.assets.model_metadata import node_metadata_query, read_metadata
from orchestration.project import dbt_project
from orchestration.resources import WarehouseResource
from orchestration.translator import WarehouseTranslator
from warehouse.engines.reads import ReadSet

TABLE_MATERIALIZATIONS = {"table", "incremental", "seed"}


@contextmanager
def dbt_environment(warehouse: str, as_of: date) -> Iterator[None]:
    """Point dbt at the warehouse file and the as-of day (through the environment, so the
    partial parse stays valid from one day to the next) and keep API secrets out of dbt."""
    saved = dict(os.environ)
    env = dbt_env(resolve_path(warehouse), as_of=as_of)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def facts_query(node: Mapping[str, Any]) -> str | None:
    """`select count(*), <kpi>, ...` over a built table, or None for tests and for views that
    declare no `meta.kpis` (a view recomputes on every read; `fct_deal_stage_history`, a thin
    view over the stored visits, declares its KPIs)."""
    config = node.get("config") or {}
    materialized = "seed" if node.get("resource_type") == "seed" else config.get("materialized")
    kpis = (config.get("meta") or {}).get("kpis") or (node.get("meta") or {}).get("kpis") or {}
    if materialized not in TABLE_MATERIALIZATIONS and not (materialized == "view" and kpis):
        return None
    columns = ['count(*) as "dagster/row_count"'] + [f"{expr} as {_quoted(name)}" for name, expr in kpis.items()]
    relation = f"{_quoted(node['schema'])}.{_quoted(node.get('alias') or node['name'])}"
    return f"select {', '.join(columns)} from {relation}"


def _event_node(event: Any, manifest: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if not isinstance(event, Output | AssetMaterialization):
        return None
    unique_id = getattr(event.metadata.get("unique_id"), "value", None)
    return manifest.get("nodes", {}).get(unique_id) if unique_id else None


def facts_reads(events: list[Any], manifest: Mapping[str, Any]) -> ReadSet:
    """The relations whose facts the events carry: what a PostgreSQL or Spark warehouse copies
    for them (raw tables and staging views are never read for facts)."""
    nodes = [n for e in events if (n := _event_node(e, manifest)) is not None and facts_query(n) is not None]
    return ReadSet.of(f"{n['schema']}.{n.get('alias') or n['name']}" for n in nodes)


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
    """Row count and `meta.kpis` of a table, plus the `(name, value)` rows of its
    `meta.dagster.metadata_query` if it declares one (see `model_metadata.py`)."""
    query = facts_query(node)
    if query is None:
        return {}
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    facts = {name: value for name, raw in zip(names, row, strict=True) if (value := _numeric(raw)) is not None}
    extra = node_metadata_query(node)
    return {**facts, **read_metadata(con, extra)} if extra else facts


def with_facts(event: Any, manifest: Mapping[str, Any], con: Any, log: Any) -> Any:
    """The event with its table's row count and KPIs added (materializations only)."""
    node = _event_node(event, manifest)
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
def warehouse_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, duckdb: WarehouseResource):
    as_of = as_of_date()
    context.log.info(f"dbt build with as_of_date={as_of.isoformat()}")
    with dbt_environment(duckdb.database, as_of):
        target = pipeline_target_path(resolve_path(duckdb.database))
        invocation = dbt.cli(["build", *PIPELINE_BUILD_ARGS], context=context, target_path=target)
    events, failure = [], None
    try:
        events.extend(invocation.stream())
    except Exception as exc:  # re-raised after the events of what did build are yielded
        failure = exc
    with duckdb.get_connection(facts_reads(events, invocation.manifest)) as con:
        enriched = [with_facts(event, invocation.manifest, con, context.log) for event in events]
    yield from enriched
    if failure is not None:
        raise failure
