"""Copy the raw schemas of a DuckDB warehouse into PostgreSQL or Spark, build dbt there and
compare every mart with DuckDB's (tests/engines/compare.py).

    python -m benchmarks.engine_mirror --duckdb data/demo/warehouse.duckdb --engine postgres
    python -m benchmarks.engine_mirror --duckdb data/demo/warehouse.duckdb --engine spark
    python -m benchmarks.engine_mirror --duckdb data/bench/raw_100k.duckdb --deals 100000 --engine spark --pipeline

A benchmark and comparison tool, not the loader: the raw tables are copied as they are (current state, same
columns), PostgreSQL through COPY, Spark as Parquet files registered as tables. PostgreSQL
connects with libpq's PG* variables; Spark uses the same local session settings as the dbt
profile (SPARK_WAREHOUSE_DIR, SPARK_MASTER).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.bench_args import absolute_path, add_sandbox_arguments, tool_parser
from core.dbt_cli import PIPELINE_BUILD_ARGS, dbt_command, dbt_env
from core.settings import DBT_PROJECT_DIR
from tests.engines.compare import IGNORED_COLUMNS, compare_schemas

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
    """A local Spark session with the dbt profile's settings (warehouse/engines/spark_conf.py)."""
    from pyspark.sql import SparkSession

    from core.settings import spark_warehouse_dir
    from warehouse.engines.spark_conf import session_conf

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in session_conf(spark_warehouse_dir(), thrift=False).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


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


def _descendants(root: int) -> list[int]:
    """``root`` and every process below it (from /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _own_cpu(pid: int) -> float:
    """CPU seconds of one process itself (utime + stime), 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _sample_tree_cpu(
    root: int, seen: dict[int, float], loads: list[float], stop: threading.Event, every_s: float = 2.0
) -> None:
    """Until ``stop``: the last CPU seconds seen of each process of ``root``'s tree (Spark's JVM
    is a child of dbt that dbt never reaps, so RUSAGE_CHILDREN misses it), and the load average."""
    while not stop.is_set():
        loads.append(os.getloadavg()[0])
        for pid in _descendants(root):
            cpu = _own_cpu(pid)
            if cpu:
                seen[pid] = max(cpu, seen.get(pid, 0.0))
        stop.wait(every_s)


def dbt_build(target: str, *args: str, pg_data: Path | None = None) -> dict[str, float]:
    """`dbt build` on ``target``: exit code, wall seconds, CPU seconds of dbt's process tree (on
    Spark the JVM: sampled every 2 s, so the last 2 s of a process are missed), the load average
    and, given the server's data directory, the PostgreSQL server's CPU (the cost a DuckDB build
    has in-process)."""
    env = dbt_env()
    env["DBT_TARGET"] = target
    server = _postmaster_pid(pg_data)
    server_before = _cpu_of(server) if server else 0.0
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    proc = subprocess.Popen(dbt_command("build", "--target", target, *args), env=env, cwd=DBT_PROJECT_DIR)
    seen: dict[int, float] = {}
    loads: list[float] = []
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_tree_cpu, args=(proc.pid, seen, loads, stop), daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    stop.set()
    sampler.join()
    dbt_cpu = usage.ru_utime + usage.ru_stime  # dbt and the children it reaped
    others = sum(cpu for pid, cpu in seen.items() if pid != proc.pid)
    out = {"exit": os.waitstatus_to_exitcode(status), "wall_s": wall, "dbt_cpu_s": dbt_cpu}
    out["tree_cpu_s"] = max(dbt_cpu, seen.get(proc.pid, 0.0)) + others  # may count a reaped child twice
    out["load_before"], out["load_min"], out["load_max"] = load_before, min(loads or [0]), max(loads or [0])
    if server:
        out["server_cpu_s"] = _cpu_of(server) - server_before
    return out


def load_sandbox_raw(deals: int, duck: Path, data_dir: Path) -> str:
    """The generator's sandbox of ``deals`` (make bench's, cached in ``data_dir``) synced into
    ``duck`` without HTTP (evaluation/load.py), unless ``duck`` exists. Its as_of_date."""
    from benchmarks.scale_bench import sandbox_for
    from evaluation.load import load_sandbox

    crm, as_of = sandbox_for(deals, data_dir)
    if not duck.exists():
        started, cpu = time.monotonic(), time.process_time()
        report = load_sandbox(crm, duck)
        print(
            f"raw load of {deals:,} deals: {time.monotonic() - started:.0f} s wall, {time.process_time() - cpu:.0f} s CPU"
        )
        print(f"  {report.records}", flush=True)
    return as_of.isoformat()


def node_summary(results: Path, slowest: int = 8) -> str:
    """Nodes by resource type and status, and the slowest nodes, from dbt's run_results.json."""
    rows = json.loads(results.read_text())["results"]
    counts = Counter((r["unique_id"].split(".")[0], r["status"]) for r in rows)
    lines = [f"{len(rows)} nodes: " + ", ".join(f"{n} {kind} {status}" for (kind, status), n in sorted(counts.items()))]
    for r in sorted(rows, key=lambda r: -r["execution_time"])[:slowest]:
        lines.append(f"  {r['execution_time']:8.1f} s  {r['status']:<6} {r['unique_id']}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    p = tool_parser("benchmarks.engine_mirror", __doc__)
    p.add_argument("--duckdb", type=absolute_path, required=True, help="a DuckDB warehouse built by dbt (make demo)")
    p.add_argument("--engine", choices=("postgres", "spark"), required=True)
    p.add_argument("--as-of-date", default="2026-10-31")
    p.add_argument("--skip-load", action="store_true")
    p.add_argument("--skip-build", action="store_true")
    p.add_argument("--pg-data", type=absolute_path, help="the server's data directory: also report its CPU")
    p.add_argument("--pipeline", action="store_true", help="build as the pipeline does (no dbt unit tests)")
    p.add_argument("--target-path", type=absolute_path, default=DBT_PROJECT_DIR / "target", help="dbt's target folder")
    p.add_argument("--no-compare", action="store_true", help="skip the mart comparison (e.g. no DuckDB marts)")
    add_sandbox_arguments(
        p,
        "first load the generator's sandbox of this size (contacts = deals, as make bench) into --duckdb "
        "without HTTP, unless that file exists; --as-of-date becomes the sandbox's last day",
    )
    a = p.parse_args(argv)
    if a.deals:
        a.as_of_date = load_sandbox_raw(a.deals, a.duckdb, a.data_dir)
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
        args = ["--vars", f"{{as_of_date: '{a.as_of_date}'}}", *(PIPELINE_BUILD_ARGS if a.pipeline else ())]
        args += ["--target-path", str(a.target_path)]
        cost = dbt_build(a.engine, *args, pg_data=a.pg_data)
        figures = ", ".join(f"{k} {v:.1f}" for k, v in cost.items() if k != "exit")
        print(f"dbt build --target {a.engine}: exit {cost['exit']:.0f}; {figures}", flush=True)
        print(node_summary(a.target_path / "run_results.json"), flush=True)
    if a.no_compare:
        return 0
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
