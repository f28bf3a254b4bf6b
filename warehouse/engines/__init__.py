"""The warehouse engines behind one small interface (WAREHOUSE_TARGET: duckdb, postgres, spark).

- `open_raw_loader`: a loader with `warehouse.loader.RawLoader`'s contract for one source, on
  the engine's raw storage (DuckDB file; PostgreSQL; Spark: a DuckDB landing file mirrored to
  Parquet in the lake folder when the loader closes: the tables it changed, and any without a
  lake file yet).
- `analytics_connection`: a DuckDB connection holding the relations the Python side reads
  (anomaly checks, Dagster row counts, publishing): the warehouse file itself on DuckDB, else an
  in-memory DuckDB with the engine's tables copied in (PostgreSQL via psycopg2; a local Spark
  session from its Parquet parts), only the relations and columns the reader names
  (`warehouse.engines.reads.ReadSet`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from core.settings import spark_lake_dir, spark_warehouse_dir, warehouse_target
from core.sources import SourceDefinition
from warehouse.engines.reads import ReadSet
from warehouse.loader import RawLoader


def require_spark() -> None:
    """A clear error when WAREHOUSE_TARGET=spark but the Spark extras are not installed."""
    try:
        importlib.import_module("pyspark")  # an optional extra: not imported by name (mypy)
    except ImportError:
        raise RuntimeError("WAREHOUSE_TARGET=spark needs pyspark and dbt-spark: run `make setup-spark`.") from None


@contextmanager
def open_raw_loader(duckdb_path: str | Path, source: SourceDefinition, target: str | None = None) -> Iterator[Any]:
    """A ready loader (tables ensured) for ``source`` on the target engine."""
    target = target or warehouse_target()
    if target == "postgres":
        from warehouse.engines.postgres import PostgresRawLoader, connect

        with connect() as con:
            loader = PostgresRawLoader(con, source.schema, source.tables.values())
            loader.ensure_tables()
            yield loader
        return
    if target == "spark":
        require_spark()  # fail at the first raw step, before any sync, with what to run
    Path(duckdb_path).parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(duckdb_path)) as con:
        duck = RawLoader(con, source.schema, source.tables.values())
        duck.ensure_tables()
        yield duck
        if target == "spark":
            from warehouse.engines.spark_lake import lake_file, mirror_tables

            lake = spark_lake_dir()
            stale = [
                t for t in source.tables if t in duck.changed_tables or not lake_file(lake, source.schema, t).exists()
            ]
            mirror_tables(con, lake, source.schema, stale)


def _copy_postgres(mem: duckdb.DuckDBPyConnection, reads: ReadSet | None) -> None:
    import pyarrow as pa

    from warehouse.engines.postgres import connect, list_tables, read_batches, table_fields

    with connect() as pg:
        for schema, table in list_tables(pg):
            if reads is not None and not reads.wants(schema, table):
                continue
            fields = table_fields(pg, schema, table)
            if reads is not None:
                keep = set(reads.projection(schema, table, [f.name for f in fields]) or [])
                fields = [f for f in fields if f.name in keep]
            if not fields:
                continue
            # streamed: DuckDB consumes the batches as PostgreSQL's server-side cursor yields them
            stream = pa.RecordBatchReader.from_batches(pa.schema(fields), read_batches(pg, schema, table, fields))
            mem.execute(f'create schema if not exists "{schema}"')
            mem.register("_copy", stream)
            mem.execute(f'create table "{schema}"."{table}" as select * from _copy')
            mem.unregister("_copy")


def _copy_spark(mem: duckdb.DuckDBPyConnection, reads: ReadSet | None) -> None:
    from warehouse.engines.spark_lake import has_parts, managed_tables, parquet_scan

    lake = spark_lake_dir()
    for folder in sorted(lake.glob("raw_*")) if lake.exists() else []:
        files = [f for f in sorted(folder.glob("*.parquet")) if not f.name.startswith(".")]
        files = [f for f in files if reads is None or reads.wants(folder.name, f.stem)]
        if files:  # views over the lake files: nothing is copied, any projection is free
            mem.execute(f'create schema if not exists "{folder.name}"')
        for file in files:
            path = str(file).replace("'", "''")
            mem.execute(f'create view "{folder.name}"."{file.stem}" as select * from read_parquet(\'{path}\')')
    wh = spark_warehouse_dir()
    for schema, table in managed_tables(wh):
        if (reads is not None and not reads.wants(schema, table)) or not has_parts(wh, schema, table):
            continue
        mem.execute(f'create schema if not exists "{schema}"')
        mem.execute(f'create table "{schema}"."{table}" as select * from {parquet_scan(wh, schema, table)}')


@contextmanager
def analytics_connection(
    duckdb_path: str | Path,
    target: str | None = None,
    schemas: Iterable[str] | None = None,
    reads: ReadSet | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """DuckDB holding the engine's dbt relations (see the module docstring): on PostgreSQL and
    Spark only what ``reads`` names (or the whole ``schemas``; neither: everything)."""
    target = target or warehouse_target()
    if target == "duckdb":
        with duckdb.connect(str(duckdb_path)) as con:
            yield con
        return
    if schemas is not None:
        reads = ReadSet.of(schemas) if reads is None else reads.union(ReadSet.of(schemas))
    with duckdb.connect() as mem:
        if target == "postgres":
            _copy_postgres(mem, reads)
        else:
            _copy_spark(mem, reads)
        yield mem
