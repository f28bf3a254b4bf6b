"""All dbt models, seeds and tests as Dagster assets and asset checks (one `dbt build`)."""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from core.dbt_cli import dbt_env
from core.settings import as_of_date, resolve_path
from orchestration.assets.model_metadata import metadata_queries, with_model_metadata
from orchestration.project import dbt_project
from orchestration.translator import WarehouseTranslator


@contextmanager
def dbt_environment(warehouse: str) -> Iterator[None]:
    """Point dbt at the warehouse file and keep API secrets out of the dbt process."""
    saved = dict(os.environ)
    env = dbt_env(resolve_path(warehouse))
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


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
    # models whose YAML declares `meta.dagster.metadata_query` get its values as metadata
    yield from with_model_metadata(invocation.stream(), context, duckdb, metadata_queries(dbt_project.manifest_path))
