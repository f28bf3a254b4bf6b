"""Spark's raw path on its own: the DuckDB landing tables mirrored to the lake folder as one
Parquet file per table (atomically), registered by dbt's `register_raw_lake` macro as Spark
tables, read back by Spark with the same rows; and the checks' DuckDB copy of a local session."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from connectors.common import Batch, TableWrite
from core.sources import HUBSPOT
from warehouse.engines.spark_lake import lake_file, mirror_tables
from warehouse.loader import RawLoader


def _landing(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    loader = RawLoader(con, HUBSPOT.schema, HUBSPOT.tables.values())
    loader.ensure_tables()
    deals = [{"id": str(i), "dealname": f"d\t{i}", "amount": None if i == 2 else str(i * 10)} for i in range(1, 4)]
    loader.write_batch(Batch("deals", [TableWrite("deals", deals)]), "s1")
    return con


def test_mirror_writes_one_file_per_table_atomically(tmp_path: Path):
    lake = tmp_path / "lake"
    with _landing(tmp_path / "landing.duckdb") as con:
        written = mirror_tables(con, lake, HUBSPOT.schema, HUBSPOT.tables)
        assert sorted(p.name for p in (lake / HUBSPOT.schema).iterdir()) == sorted(
            f"{t}.parquet" for t in HUBSPOT.tables
        )
        assert written == [lake_file(lake, HUBSPOT.schema, t) for t in HUBSPOT.tables]
        expected = con.execute("select * from raw_hubspot.deals order by id").fetchall()
        got = con.execute(
            f"select * from read_parquet('{lake_file(lake, HUBSPOT.schema, 'deals')}') order by id"
        ).fetchall()
        assert got == expected
        empty = con.execute(
            f"select count(*) from read_parquet('{lake_file(lake, HUBSPOT.schema, 'owners')}')"
        ).fetchone()
        assert empty == (0,)  # a table with no rows still has a file (and a schema) for Spark


@pytest.mark.slow
@pytest.mark.engines  # a Spark session: make test-spark
@pytest.mark.spark
def test_dbt_registers_the_lake_tables_in_spark(tmp_path: Path):
    pytest.importorskip("pyspark", reason="Spark extras missing: run `make setup-spark`")
    from core.dbt_cli import dbt_command, dbt_env
    from core.settings import DBT_PROJECT_DIR

    wh, lake = tmp_path / "spark-warehouse", tmp_path / "lake"
    with _landing(tmp_path / "landing.duckdb") as con:
        mirror_tables(con, lake, HUBSPOT.schema, HUBSPOT.tables)
        expected = con.execute("select id, dealname, amount from raw_hubspot.deals order by id").fetchall()
    env = {**os.environ, "WAREHOUSE_TARGET": "spark", "SPARK_WAREHOUSE_DIR": str(wh)}
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        cmd = dbt_command("run-operation", "register_raw_lake", "--target-path", str(tmp_path / "target"))
        run_env = dbt_env()  # WAREHOUSE_LAKE_DIR = <SPARK_WAREHOUSE_DIR>/../lake = the lake above
        assert run_env["WAREHOUSE_LAKE_DIR"] == str(lake)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    proc = subprocess.run(cmd, env=run_env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.sql.warehouse.dir", str(wh))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL", f"jdbc:derby:;databaseName={wh}/metastore_db;create=true"
        )
        .config("spark.ui.enabled", "false")
        .config("spark.driver.extraJavaOptions", f"-Dderby.stream.error.file={wh}/derby.log")
        .enableHiveSupport()
        .getOrCreate()
    )
    try:
        rows = spark.sql("select id, dealname, amount from raw_hubspot.deals order by id").collect()
        assert [tuple(r) for r in rows] == expected
        assert {r.tableName for r in spark.sql("show tables in raw_hubspot").collect()} == set(HUBSPOT.tables)
    finally:
        spark.stop()


@pytest.mark.engines  # the Spark target needs its extras: make test-spark
@pytest.mark.spark
def test_spark_loader_mirrors_what_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # The Spark target refuses to start without its extras; `make test` installs them.
    pytest.importorskip("pyspark", reason="the Spark extras are missing: run make setup-spark")
    from warehouse.engines import open_raw_loader

    monkeypatch.setenv("SPARK_WAREHOUSE_DIR", str(tmp_path / "spark-warehouse"))
    landing, lake = tmp_path / "landing.duckdb", tmp_path / "lake"
    with open_raw_loader(landing, HUBSPOT, "spark"):
        pass  # first time: every table gets its file, empty
    files = {t: lake_file(lake, HUBSPOT.schema, t) for t in HUBSPOT.tables}
    assert all(f.exists() for f in files.values())
    before = {t: f.stat().st_mtime_ns for t, f in files.items()}
    with open_raw_loader(landing, HUBSPOT, "spark") as loader:
        loader.write_batch(Batch("deals", [TableWrite("deals", [{"id": "7", "dealname": "x"}])]), "s1")
    after = {t: f.stat().st_mtime_ns for t, f in files.items()}
    assert [t for t in HUBSPOT.tables if after[t] != before[t]] == ["deals"]
    with duckdb.connect() as con:
        assert con.execute(f"select id, dealname from read_parquet('{files['deals']}')").fetchall() == [("7", "x")]
