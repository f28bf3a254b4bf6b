"""Reading an engine's tables back into DuckDB (checks, row counts, publishing): the engine's
column types kept, values identical, and the published Parquet equal to the engine's tables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from warehouse.engines import analytics_connection
from warehouse.publish import publish_schema

PG_TABLE = """
create table marts.mart_sample (
    id bigint, n integer, amount numeric(28, 6), rate double precision, label text, flag boolean,
    day date, at timestamp, at_tz timestamp with time zone
)
"""
ROWS = [
    (
        1,
        7,
        Decimal("1234.500001"),
        0.1 + 0.2,
        "tab\there",
        True,
        date(2026, 3, 29),
        datetime(2026, 3, 29, 1, 30, 0, 123456),
        datetime(2026, 3, 29, 1, 30, 0, 654321, tzinfo=UTC),
    ),
    (2, None, None, None, None, None, None, None, None),
]


@pytest.mark.usefixtures("fresh_database")
def test_postgres_tables_copy_with_their_types_and_publish(tmp_path: Path):
    from warehouse.engines.postgres import connect

    with connect() as pg:
        with pg.cursor() as cur:
            cur.execute("create schema marts")
            cur.execute(PG_TABLE)
            cur.executemany("insert into marts.mart_sample values (%s, %s, %s, %s, %s, %s, %s, %s, %s)", ROWS)
            cur.execute("set time zone 'Asia/Kolkata'")  # another session's zone changes nothing
        pg.commit()
    with analytics_connection(tmp_path / "unused.duckdb", "postgres") as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns where table_name = 'mart_sample'"
            ).fetchall()
        )
        assert types == {
            "id": "BIGINT",
            "n": "INTEGER",
            "amount": "DECIMAL(28,6)",
            "rate": "DOUBLE",
            "label": "VARCHAR",
            "flag": "BOOLEAN",
            "day": "DATE",
            "at": "TIMESTAMP",
            "at_tz": "TIMESTAMP WITH TIME ZONE",
        }
        con.execute("set time zone 'UTC'")
        got = con.execute("select * from marts.mart_sample order by id").fetchall()
        assert got == ROWS
        report = publish_schema(con, tmp_path / "published")
    assert report.tables == {"mart_sample": 2}
    with duckdb.connect() as pub:
        pub.execute("set time zone 'UTC'")
        path = tmp_path / "published" / "parquet" / "mart_sample.parquet"
        assert pub.execute(f"select * from read_parquet('{path}') order by id").fetchall() == ROWS
        described = pub.execute(f"describe select * from read_parquet('{path}')").fetchall()
        assert [(c[0], c[1]) for c in described] == [(k, v) for k, v in types.items()]


def test_spark_parts_copy_as_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A local session's managed tables are folders of Parquet parts (Hive partitions allowed)."""
    wh = tmp_path / "spark-warehouse"
    monkeypatch.setenv("SPARK_WAREHOUSE_DIR", str(wh))
    with duckdb.connect() as make:
        for month in ("2026-01-01", "2026-02-01"):
            part = wh / "marts.db" / "mart_monthly" / f"month={month}"
            part.mkdir(parents=True)
            make.execute(
                f"copy (select 'hubspot' as source, 1.5::double as value) to '{part}/part-00000.snappy.parquet'"
            )
        (wh / "marts.db" / "mart_monthly" / "_SUCCESS").write_text("")
    with analytics_connection(tmp_path / "landing.duckdb", "spark") as con:
        rows = con.execute("select month, source, value from marts.mart_monthly order by month").fetchall()
    assert rows == [(date(2026, 1, 1), "hubspot", 1.5), (date(2026, 2, 1), "hubspot", 1.5)]


@pytest.mark.usefixtures("fresh_database")
def test_postgres_copies_only_what_the_reader_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A reader's `ReadSet` bounds the copy: other relations stay on the server, a projected
    table keeps only the named columns, and a table larger than one read batch arrives whole."""
    import warehouse.engines.postgres as pg_engine
    from warehouse.engines.postgres import connect
    from warehouse.engines.reads import ReadSet

    monkeypatch.setattr(pg_engine, "READ_BATCH_ROWS", 7)  # 100 rows: fifteen batches
    with connect() as pg:
        with pg.cursor() as cur:
            cur.execute("create schema marts")
            cur.execute("create schema raw_hubspot")
            cur.execute(PG_TABLE)
            cur.executemany("insert into marts.mart_sample values (%s, %s, %s, %s, %s, %s, %s, %s, %s)", ROWS)
            cur.execute("create table marts.other (id bigint)")
            cur.execute("create table raw_hubspot.deals (id text, payload text, _loaded_at timestamp)")
            cur.execute(
                "insert into raw_hubspot.deals select i::text, repeat('x', 50), timestamp '2026-03-01' + i * interval '1 minute' "
                "from generate_series(1, 100) i"
            )
        pg.commit()
    reads = ReadSet.of(["marts.mart_sample", "raw_*.*"], {"raw_*.*": ("_loaded_at",)})
    with analytics_connection(tmp_path / "unused.duckdb", "postgres", reads=reads) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables order by 1"
        ).fetchall()
        assert tables == [("marts.mart_sample",), ("raw_hubspot.deals",)]
        columns = con.execute(
            "select column_name from information_schema.columns where table_name = 'deals'"
        ).fetchall()
        assert columns == [("_loaded_at",)]
        assert con.execute("select count(*), max(_loaded_at) from raw_hubspot.deals").fetchone() == (
            100,
            datetime(2026, 3, 1, 1, 40),
        )
        con.execute("set time zone 'UTC'")
        assert con.execute("select * from marts.mart_sample order by id").fetchall() == ROWS
