"""Publish the marts (read-only DuckDB copy + Parquet) after they materialize successfully."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from core.settings import publish_dir
from orchestration.assets.dbt import warehouse_dbt_models
from orchestration.resources import WarehouseResource
from warehouse.publish import READS, publish_schema

MART_KEYS = sorted(
    (key for key in warehouse_dbt_models.keys if key.path[0] == "marts"), key=lambda k: k.to_user_string()
)


@asset(
    key=AssetKey(["published", "marts"]),
    group_name="published",
    kinds={"duckdb", "parquet"},
    deps=MART_KEYS,
    description=(
        "The marts copied for BI tools after each successful run: a read-only DuckDB file "
        "(schema `marts`) and one Parquet file per mart, swapped in atomically."
    ),
)
def published_marts(context: AssetExecutionContext, duckdb: WarehouseResource) -> MaterializeResult:
    target = publish_dir(Path(duckdb.database))
    with duckdb.get_connection(READS) as con:
        report = publish_schema(con, target)
    context.log.info(f"Published {len(report.tables)} marts to {report.database} and {report.parquet_dir}")
    return MaterializeResult(
        metadata={
            "database": str(report.database),
            "parquet_dir": str(report.parquet_dir),
            **{f"rows.{table}": n for table, n in report.tables.items()},
        }
    )
