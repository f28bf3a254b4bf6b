"""Spark as the warehouse: raw lands in a local DuckDB landing file (the DuckDB loader, so
transactions and cursors are unchanged) and is mirrored, after each sync, as ONE Parquet file per
raw table under the lake folder (``<lake>/raw_<source>/<table>.parquet``, written under a
temporary name and renamed into place). dbt registers those files as Spark tables
``raw_<source>.<table>`` when a run starts (macro ``register_raw_lake``), so Python never opens
a Spark session of its own (the embedded Derby metastore admits one JVM at a time).

Reading back (checks, publish): a local session's managed tables are Parquet parts under
``SPARK_WAREHOUSE_DIR/<schema>.db/<table>/``; DuckDB reads them (Hive partitions included).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path

import duckdb


def _lit(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def lake_file(lake: Path, schema: str, table: str) -> Path:
    return lake / schema / f"{table}.parquet"


def mirror_tables(con: duckdb.DuckDBPyConnection, lake: Path, schema: str, tables: Iterable[str]) -> list[Path]:
    """Write each raw table (current state, every column) to its lake file, atomically."""
    written: list[Path] = []
    (lake / schema).mkdir(parents=True, exist_ok=True)
    for table in tables:
        final = lake_file(lake, schema, table)
        tmp = final.with_name(f".{table}-{uuid.uuid4().hex[:8]}.parquet")
        con.execute(f"copy (select * from {_q(schema)}.{_q(table)}) to {_lit(tmp)} (format parquet)")
        os.replace(tmp, final)
        written.append(final)
    return written


def table_dir(warehouse_dir: Path, schema: str, table: str) -> Path:
    return warehouse_dir / f"{schema}.db" / table


def managed_tables(warehouse_dir: Path, schemas: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(schema, table) of the local session's managed tables that hold data files."""
    found: list[tuple[str, str]] = []
    wanted = set(schemas) if schemas is not None else None
    for db in sorted(warehouse_dir.glob("*.db")):
        schema = db.name[: -len(".db")]
        if wanted is not None and schema not in wanted:
            continue
        for tdir in sorted(p for p in db.iterdir() if p.is_dir()):
            found.append((schema, tdir.name))
    return found


def parquet_scan(warehouse_dir: Path, schema: str, table: str) -> str:
    """A DuckDB ``read_parquet`` over a managed table's parts (empty tables: no parts, None)."""
    pattern = table_dir(warehouse_dir, schema, table) / "**" / "*.parquet"
    return f"read_parquet({_lit(pattern)}, hive_partitioning = true, union_by_name = true)"


def has_parts(warehouse_dir: Path, schema: str, table: str) -> bool:
    return any(table_dir(warehouse_dir, schema, table).rglob("*.parquet"))
