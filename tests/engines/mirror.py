"""Copy the raw schemas of a DuckDB warehouse into PostgreSQL or Spark, build dbt there and
compare every mart with DuckDB's (tests/engines/compare.py).

    python -m tests.engines.mirror --duckdb data/demo/warehouse.duckdb --engine postgres
    python -m tests.engines.mirror --duckdb data/demo/warehouse.duckdb --engine spark

A test tool, not the loader: the raw tables are copied as they are (current state, same
columns), PostgreSQL through COPY, Spark as Parquet files registered as tables. PostgreSQL
connects with libpq's PG* variables; Spark uses the same local session settings as the dbt
profile (SPARK_WAREHOUSE_DIR, SPARK_MASTER).
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from core.dbt_cli import dbt_command, dbt_env
from core.settings import DBT_PROJECT_DIR
from tests.engines.compare import compare_schemas

# Columns that differ by design between two builds.
IGNORED_COLUMNS = {
    "mart_build_info": frozenset({"built_at"}),
    # a change detector of the incremental build: each engine hashes its own text forms
    "fct_pipeline_snapshot_daily": frozenset({"deal_inputs_hash"}),
}

_PG_TYPES = {"VARCHAR": "text", "BOOLEAN": "boolean", "INTEGER": "integer", "BIGINT": "bigint"}
_PG_TYPES |= {"DOUBLE": "double precision", "TIMESTAMP": "timestamp", "DATE": "date"}


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(schema, table, [(column, DuckDB type)]) of every table in a raw_* schema."""
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema like 'raw\\_%' escape '\\' order by 1, 2"
    ).fetchall()
    out = []
    for schema, table in tables:
        cols = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
        out.append((schema, table, cols))
    return out


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    s = value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value)
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def pg_connect():  # noqa: ANN201
    import psycopg2

    return psycopg2.connect(
        host=os.environ.get("PGHOST", "localhost"),
        port=int(os.environ.get("PGPORT", "5432")),
        user=os.environ.get("PGUSER", "postgres"),
        dbname=os.environ.get("PGDATABASE", os.environ.get("PGUSER", "postgres")),
    )


def copy_raw_to_postgres(duck: Path) -> int:
    """Recreate every raw_* table of ``duck`` in PostgreSQL (drop, create, COPY). Row count."""
    total = 0
    with duckdb.connect(str(duck), read_only=True) as con, pg_connect() as pg, pg.cursor() as cur:
        for schema, table, cols in raw_tables(con):
            cur.execute(f'create schema if not exists "{schema}"')
            cur.execute(f'drop table if exists "{schema}"."{table}"')
            ddl = ", ".join(f'"{c}" {_PG_TYPES[t]}' for c, t in cols)
            cur.execute(f'create table "{schema}"."{table}" ({ddl})')
            rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            buf = io.StringIO("".join("\t".join(_copy_text(v) for v in r) + "\n" for r in rows))
            cur.copy_expert(f'copy "{schema}"."{table}" from stdin', buf)
            total += len(rows)
    return total


def spark_session():  # noqa: ANN201
    """A local Spark session with the dbt profile's warehouse and metastore settings."""
    from pyspark.sql import SparkSession

    d = os.environ.get("SPARK_WAREHOUSE_DIR", str(Path("data/spark-warehouse").resolve()))
    return (
        SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[2]"))
        .enableHiveSupport()
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.warehouse.dir", d)
        .config("spark.hadoop.javax.jdo.option.ConnectionURL", f"jdbc:derby:;databaseName={d}/metastore_db;create=true")
        .config("spark.driver.extraJavaOptions", f"-Dderby.stream.error.file={d}/derby.log -Duser.timezone=UTC")
        .getOrCreate()
    )


def copy_raw_to_spark(duck: Path, lake: Path) -> int:
    """Write every raw_* table of ``duck`` to the lake folder as the Spark loader does
    (warehouse/engines/spark_lake.py: one Parquet file per table); dbt's on-run-start macro
    `register_raw_lake` registers them. No Spark session here: the embedded Derby metastore
    admits one JVM, and this process's would still hold it while dbt builds."""
    from warehouse.engines.spark_lake import mirror_tables

    total = 0
    with duckdb.connect(str(duck), read_only=True) as con:
        by_schema: dict[str, list[str]] = {}
        for schema, table, _cols in raw_tables(con):
            by_schema.setdefault(schema, []).append(table)
            total += con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
        for schema, tables in by_schema.items():
            mirror_tables(con, lake, schema, tables)
    return total


def read_duckdb(duck: Path, schema: str = "marts") -> dict[str, tuple[list[str], list[tuple]]]:
    with duckdb.connect(str(duck), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ? and table_type in ('BASE TABLE', 'VIEW')",
                [schema],
            ).fetchall()
        ]
        out = {}
        for n in names:
            cur = con.execute(f'select * from "{schema}"."{n}"')
            out[n] = ([d[0] for d in cur.description], cur.fetchall())
    return out


def read_postgres(schema: str = "marts") -> dict[str, tuple[list[str], list[tuple]]]:
    with pg_connect() as pg, pg.cursor() as cur:
        cur.execute("set time zone 'UTC'")
        cur.execute(
            "select table_name from information_schema.tables where table_schema = %s and table_type in ('BASE TABLE', 'VIEW')",
            [schema],
        )
        out = {}
        for (n,) in cur.fetchall():
            cur.execute(f'select * from "{schema}"."{n}"')
            out[n] = ([d[0] for d in cur.description], cur.fetchall())
    return out


def read_spark(schema: str = "marts") -> dict[str, tuple[list[str], list[tuple]]]:
    spark = spark_session()
    try:
        out = {}
        for t in spark.catalog.listTables(schema):
            arrow = spark.table(f"{schema}.{t.name}").toArrow()
            cols = arrow.column_names
            out[t.name] = (cols, [tuple(r[c] for c in cols) for r in arrow.to_pylist()])
    finally:
        spark.stop()
    return out


def _cpu_of(pid: int) -> float:
    """CPU seconds of a process and of its reaped children (/proc/<pid>/stat utime..cstime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _postmaster_pid(pg_data: Path | None) -> int | None:
    """The server's main process (first line of postmaster.pid): its reaped backends' CPU is the
    server's share of a build (backends exit, and are reaped, when dbt's connections close)."""
    if pg_data is None or not (pg_data / "postmaster.pid").exists():
        return None
    return int((pg_data / "postmaster.pid").read_text().split()[0])


def dbt_build(target: str, *args: str, pg_data: Path | None = None) -> dict[str, float]:
    """`dbt build` on ``target``: exit code, wall seconds, CPU seconds of dbt's process and, given
    the server's data directory, of the PostgreSQL server (the cost a DuckDB build has in-process)."""
    env = dbt_env()
    env["DBT_TARGET"] = target
    server = _postmaster_pid(pg_data)
    server_before = _cpu_of(server) if server else 0.0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    rc = subprocess.run(
        dbt_command("build", "--target", target, *args), env=env, cwd=DBT_PROJECT_DIR, check=False
    ).returncode
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {"exit": rc, "wall_s": wall, "dbt_cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime}
    if server:
        out["server_cpu_s"] = _cpu_of(server) - server_before
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duckdb", type=Path, required=True, help="a DuckDB warehouse built by dbt (make demo)")
    p.add_argument("--engine", choices=("postgres", "spark"), required=True)
    p.add_argument("--as-of-date", default="2026-10-31")
    p.add_argument("--skip-load", action="store_true")
    p.add_argument("--skip-build", action="store_true")
    p.add_argument("--pg-data", type=Path, help="the server's data directory: also report its CPU")
    a = p.parse_args(argv)
    os.environ["WAREHOUSE_TARGET"] = a.engine  # dbt_env: the engine's variables (Spark: the lake)
    if not a.skip_load:
        started = time.monotonic()
        if a.engine == "postgres":
            n = copy_raw_to_postgres(a.duckdb)
        else:
            from core.settings import spark_lake_dir

            n = copy_raw_to_spark(a.duckdb, spark_lake_dir())
        print(f"copied {n} raw rows to {a.engine} in {time.monotonic() - started:.1f}s")
    if not a.skip_build:
        load = os.getloadavg()
        cost = dbt_build(a.engine, "--vars", f"{{as_of_date: '{a.as_of_date}'}}", pg_data=a.pg_data)
        figures = ", ".join(f"{k} {v:.1f}" for k, v in cost.items() if k != "exit")
        print(f"dbt build --target {a.engine}: exit {cost['exit']:.0f}; {figures}")
        print(
            f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, after",
            *map("{:.2f}".format, os.getloadavg()),
        )
    left = read_duckdb(a.duckdb)
    right = read_postgres() if a.engine == "postgres" else read_spark()
    diffs = compare_schemas(left, right, right_name=a.engine, ignore=IGNORED_COLUMNS)
    for d in diffs:
        print(d.report())
    bad = [d for d in diffs if d]
    print(f"{len(diffs)} marts compared, {len(bad)} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
