"""The raw loader's contract on every engine's raw storage (DuckDB file; PostgreSQL server):
upsert by key, groups replaced whole, sweeps flag `_is_deleted`, a batch and its cursor in one
transaction, values stored exactly (also with tabs, newlines, backslashes), UTC timestamps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from connectors.common import Batch, Sweep, TableSchema, TableWrite
from warehouse.loader import RawLoader

ITEMS = TableSchema("items", {"id": "VARCHAR", "name": "VARCHAR", "archived": "BOOLEAN"}, ("id",))
CHILDREN = TableSchema(
    "item_children", {"item_id": "VARCHAR", "position": "INTEGER", "value": "VARCHAR"}, ("item_id", "position")
)
SCHEMA = "raw_test"
Query = Callable[[str], list[tuple]]


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Query]]:
    if request.param == "duckdb":
        with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
            loader = RawLoader(con, SCHEMA, [ITEMS, CHILDREN])
            loader.ensure_tables()
            yield loader, lambda sql: con.execute(sql).fetchall()
        return
    request.getfixturevalue("fresh_database")
    from warehouse.engines.postgres import PostgresRawLoader, connect

    with connect() as con:
        loader = PostgresRawLoader(con, SCHEMA, [ITEMS, CHILDREN])
        loader.ensure_tables()

        def query(sql: str) -> list[tuple]:
            with con.cursor() as cur:
                cur.execute(sql)
                out = cur.fetchall()
            con.commit()
            return out

        yield loader, query


def items(*pairs: tuple[str, str | None]) -> TableWrite:
    return TableWrite("items", [{"id": i, "name": n} for i, n in pairs])


def test_upsert_by_key_last_duplicate_wins(engine):
    loader, q = engine
    loader.write_batch(Batch("items", [items(("1", "a"), ("2", "b"))]), "s1")
    loader.write_batch(Batch("items", [items(("2", "old"), ("2", "new"), ("3", None))]), "s2")
    assert q(f"select id, name, _sync_id from {SCHEMA}.items order by id") == [
        ("1", "a", "s1"),
        ("2", "new", "s2"),
        ("3", None, "s2"),
    ]


def test_children_replaced_per_parent(engine):
    loader, q = engine

    def children(parent_ids: list[str], rows: list[tuple[str, int, str]]) -> Batch:
        data = [{"item_id": p, "position": n, "value": v} for p, n, v in rows]
        return Batch("items", [TableWrite("item_children", data, replace_column="item_id", replace_ids=parent_ids)])

    loader.write_batch(children(["1", "2"], [("1", 0, "a"), ("1", 1, "b"), ("2", 0, "c")]), "s1")
    loader.write_batch(children(["1", "9"], [("1", 0, "z")]), "s2")  # 1 shrinks to one child; 9 has none
    assert q(f"select item_id, position, value from {SCHEMA}.item_children order by 1, 2") == [
        ("1", 0, "z"),
        ("2", 0, "c"),
    ]


def test_sweep_flags_and_unflags(engine):
    loader, q = engine
    loader.write_batch(Batch("items", [items(("1", "a"), ("2", "b"), ("3", "c"))]), "s1")
    counts = loader.write_batch(Batch("items", sweep=Sweep("items", "id", {"1", "3"})), "s2")
    assert counts.rows_flagged_deleted == 1
    assert q(f"select id from {SCHEMA}.items where _is_deleted order by id") == [("2",)]
    loader.write_batch(Batch("items", sweep=Sweep("items", "id", {"1", "2", "3"})), "s3")
    assert q(f"select count(*) from {SCHEMA}.items where _is_deleted") == [(0,)]
    assert loader.count_live("items") == 3 and loader.count_all("items") == 3


def test_a_failed_batch_leaves_neither_rows_nor_cursor(engine):
    loader, q = engine
    loader.write_batch(Batch("items", [items(("1", "a"))], cursor={"after": 1}), "s1")
    bad = TableWrite("item_children", [{"item_id": "1", "position": "not a number", "value": "x"}])
    with pytest.raises(Exception):  # noqa: B017 - each engine raises its own conversion error
        loader.write_batch(Batch("items", [items(("1", "changed"), ("2", "b")), bad], cursor={"after": 2}), "s2")
    assert loader.read_cursor("items") == {"after": 1}
    assert q(f"select id, name from {SCHEMA}.items order by id") == [("1", "a")]


def test_values_round_trip_exactly(engine):
    loader, q = engine
    odd = "tab\there\nnew line \\N back\\slash \"quoted\" 'single' é 😀"
    loader.write_batch(Batch("items", [items(("1", odd), ("2", ""))]), "s1")
    assert q(f"select id, name from {SCHEMA}.items order by id") == [("1", odd), ("2", "")]


def test_loaded_at_is_the_utc_instant_given(engine):
    loader, q = engine
    loader.write_batch(Batch("items", [items(("1", "a"))]), "s1", loaded_at=datetime(2026, 3, 29, 1, 30, 0, 123456))
    assert q(f"select _loaded_at from {SCHEMA}.items") == [(datetime(2026, 3, 29, 1, 30, 0, 123456),)]


def test_duckdb_tables_made_before_the_indexes_get_them_on_upgrade(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        con.execute(f"create schema {SCHEMA}")
        con.execute(f"create table {SCHEMA}.items (id varchar, name varchar, archived boolean)")
        con.execute(f"insert into {SCHEMA}.items values ('1', 'a', null)")
        loader = RawLoader(con, SCHEMA, [ITEMS, CHILDREN])
        loader.ensure_tables()
        indexes = {r[0] for r in con.execute("select index_name from duckdb_indexes()").fetchall()}
        assert "ix_items_id" in indexes  # item_children is new and empty: built after its first load
        loader.build_indexes()
        indexes = {r[0] for r in con.execute("select index_name from duckdb_indexes()").fetchall()}
        assert {"ix_items_id", "ix_item_children_item_id"} <= indexes
        loader.write_batch(Batch("items", [items(("1", "b"))]), "s1")
        assert con.execute(f"select id, name, _is_deleted from {SCHEMA}.items").fetchall() == [("1", "b", False)]
