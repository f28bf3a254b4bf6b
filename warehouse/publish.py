"""Publish the marts for BI tools, swapped in atomically after each successful run.

DuckDB allows one writer and no other process beside it, so BI tools cannot read the warehouse
while a run holds it. After every successful run the marts are copied to

- ``<publish dir>/sales_marts.duckdb``: a separate DuckDB file with schema ``marts`` (open it
  read-only; any number of readers), and
- ``<publish dir>/parquet/<table>.parquet``: one Parquet file per mart,

each written under a temporary name and moved into place with an atomic rename, so a reader
sees the old copy or the new one, never a half-written file.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.db import fetch_one
from warehouse.engines.reads import ReadSet

PUBLISHED_SCHEMA = "marts"
READS = ReadSet.of([PUBLISHED_SCHEMA])  # what publishing copies from PostgreSQL or Spark


@dataclass
class PublishReport:
    database: Path
    parquet_dir: Path
    tables: dict[str, int]


def _sql_string(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def publish_schema(con: duckdb.DuckDBPyConnection, publish_dir: Path, schema: str = PUBLISHED_SCHEMA) -> PublishReport:
    """Copy every table and view of ``schema`` (views as tables: ``fct_deal_stage_history`` is a
    view over the stored visits) to a read-only DuckDB file and Parquet files."""
    publish_dir.mkdir(parents=True, exist_ok=True)
    parquet_dir = publish_dir / "parquet"
    parquet_dir.mkdir(exist_ok=True)
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = ? and table_type in ('BASE TABLE', 'VIEW') order by 1",
            [schema],
        ).fetchall()
    ]
    token = uuid.uuid4().hex[:8]
    tmp_db = publish_dir / f".{schema}-{token}.duckdb"
    alias = f"publish_{token}"
    counts: dict[str, int] = {}
    con.execute(f"attach {_sql_string(tmp_db)} as {alias}")
    try:
        con.execute(f"create schema {alias}.{schema}")
        for table in tables:
            con.execute(f"create table {alias}.{schema}.{table} as select * from {schema}.{table}")
            counts[table] = int(fetch_one(con, f"select count(*) from {schema}.{table}")[0])
    finally:
        con.execute(f"detach {alias}")
    tmp_parquet: list[tuple[Path, Path]] = []
    for table in tables:
        tmp = parquet_dir / f".{table}-{token}.parquet"
        con.execute(f"copy (select * from {schema}.{table}) to {_sql_string(tmp)} (format parquet)")
        tmp_parquet.append((tmp, parquet_dir / f"{table}.parquet"))
    target_db = publish_dir / f"sales_{schema}.duckdb"
    os.replace(tmp_db, target_db)
    for tmp, final in tmp_parquet:
        os.replace(tmp, final)
    return PublishReport(database=target_db, parquet_dir=parquet_dir, tables=counts)
