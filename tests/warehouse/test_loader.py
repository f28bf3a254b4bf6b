"""RawLoader against a real DuckDB file: atomic batches, upserts, child replacement, sweeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from connectors.common import Batch, Sweep, TableSchema, TableWrite
from warehouse.loader import RawLoader
from warehouse.sync import sync_stream, sync_streams

ITEMS = TableSchema("items", {"id": "VARCHAR", "name": "VARCHAR", "archived": "BOOLEAN"}, ("id",))
CHILDREN = TableSchema(
    "item_children", {"item_id": "VARCHAR", "position": "INTEGER", "value": "VARCHAR"}, ("item_id", "position")
)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


def loader_for(con: duckdb.DuckDBPyConnection) -> RawLoader:
    loader = RawLoader(con, "raw_test", [ITEMS, CHILDREN])
    loader.ensure_tables()
    return loader


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_ensure_tables_creates_empty_tables_and_keeps_rows(con):
    loader = loader_for(con)
    assert rows(con, "select count(*) from raw_test.items") == [(0,)]
    loader.write_batch(Batch("items", [TableWrite("items", [{"id": "1", "name": "a"}])]), "s1")
    loader_for(con)  # again: idempotent, keeps the row
    assert rows(con, "select id, name, _sync_id, _is_deleted from raw_test.items") == [("1", "a", "s1", False)]


def test_upsert_replaces_by_key_and_last_duplicate_in_batch_wins(con):
    loader = loader_for(con)
    loader.write_batch(
        Batch("items", [TableWrite("items", [{"id": "1", "name": "a"}, {"id": "2", "name": "b"}])]), "s1"
    )
    loader.write_batch(
        Batch(
            "items",
            [TableWrite("items", [{"id": "2", "name": "old"}, {"id": "2", "name": "new"}, {"id": "3", "name": "c"}])],
        ),
        "s2",
    )
    assert rows(con, "select id, name, _sync_id from raw_test.items order by id") == [
        ("1", "a", "s1"),
        ("2", "new", "s2"),
        ("3", "c", "s2"),
    ]


def test_child_rows_are_replaced_per_parent(con):
    loader = loader_for(con)
    first = [{"item_id": "1", "position": i, "value": f"v{i}"} for i in range(3)]
    loader.write_batch(
        Batch("items", [TableWrite("item_children", first, replace_column="item_id", replace_ids=["1"])]), "s1"
    )
    # The parent now has two children: the third must disappear, not linger.
    second = [{"item_id": "1", "position": i, "value": f"w{i}"} for i in range(2)]
    loader.write_batch(
        Batch("items", [TableWrite("item_children", second, replace_column="item_id", replace_ids=["1"])]), "s2"
    )
    assert rows(con, "select position, value from raw_test.item_children order by position") == [(0, "w0"), (1, "w1")]


def test_cursor_commits_with_its_batch_and_a_failed_batch_leaves_nothing(con):
    loader = loader_for(con)
    loader.write_batch(Batch("items", [TableWrite("items", [{"id": "1"}])], cursor={"after": "1"}), "s1")
    bad = Batch("items", [TableWrite("items", [{"id": "2"}]), TableWrite("nope", [{"id": "x"}])], cursor={"after": "2"})
    with pytest.raises(KeyError):
        loader.write_batch(bad, "s2")
    assert loader.read_cursor("items") == {"after": "1"}
    assert rows(con, "select id from raw_test.items") == [("1",)]


def test_sweep_flags_missing_ids_and_unflags_returning_ones(con):
    loader = loader_for(con)
    loader.write_batch(Batch("items", [TableWrite("items", [{"id": str(i)} for i in range(5)])]), "s1")
    counts = loader.write_batch(Batch("items", sweep=Sweep("items", "id", ["0", "1", "2"])), "s2")
    assert counts.rows_flagged_deleted == 2
    assert rows(con, "select id from raw_test.items where _is_deleted order by id") == [("3",), ("4",)]
    loader.write_batch(Batch("items", sweep=Sweep("items", "id", ["0", "1", "2", "3"])), "s3")
    assert rows(con, "select id from raw_test.items where _is_deleted") == [("4",)]
    assert loader.count_live("items") == 4


def test_reset_cursors(con):
    loader = loader_for(con)
    for stream in ("a", "b"):
        loader.write_batch(Batch(stream, cursor={"x": 1}), "s1")
    assert loader.reset_cursors(["a"]) == 1
    assert loader.read_cursor("a") is None and loader.read_cursor("b") == {"x": 1}
    assert loader.reset_cursors() == 1


class PagedSource:
    """Yields one batch per page of 10 ids, resuming from the stored cursor."""

    def __init__(self, n: int):
        self.n = n

    def sync(self, stream: str, state: dict | None, *, now: datetime):  # noqa: ARG002
        start = (state or {}).get("next", 0)
        for page_start in range(start, self.n, 10):
            ids = range(page_start, min(page_start + 10, self.n))
            yield Batch(
                stream,
                [TableWrite("items", [{"id": str(i), "name": f"n{i}"} for i in ids])],
                cursor={"next": page_start + 10},
                stats={"mode": "backfill"},
            )

    def api_total(self, stream: str) -> int:  # noqa: ARG002
        return self.n


def test_crash_between_batches_then_rerun_loses_and_duplicates_nothing(con):
    loader = loader_for(con)

    def crash_at_third(i: int, batch: Batch) -> None:  # noqa: ARG001
        if i == 3:
            raise RuntimeError("injected crash")

    with pytest.raises(RuntimeError, match="injected"):
        sync_stream(PagedSource(95), loader, "items", primary_table="items", sync_id="s1", batch_hook=crash_at_third)
    assert rows(con, "select count(*) from raw_test.items") == [(30,)]
    assert loader.read_cursor("items") == {"next": 30}
    report = sync_stream(PagedSource(95), loader, "items", primary_table="items", sync_id="s2")
    assert report.batches == 7  # resumed at 30, not from scratch
    assert rows(con, "select count(*), count(distinct id) from raw_test.items") == [(95, 95)]
    assert report.totals_match is True
    assert sorted(r[0] for r in rows(con, "select status from raw_test._sync_log")) == ["failed", "succeeded"]


class TwoStreams:
    """Streams ``good`` (ids 0-29) and ``bad`` (ids 100-119, then an error), into ``items``."""

    def sync(self, stream: str, state: dict | None, *, now: datetime):  # noqa: ARG002
        base = 0 if stream == "good" else 100
        for page in range(3):
            if stream == "bad" and page == 2:
                raise ConnectionError("the API went away")
            ids = range(base + 10 * page, base + 10 * page + 10)
            yield Batch(
                stream,
                [TableWrite("items", [{"id": str(i), "name": stream} for i in ids])],
                cursor={"page": page},
                stats={"mode": "backfill"},
            )

    def api_total(self, stream: str) -> int | None:  # noqa: ARG002
        return None


@pytest.mark.parametrize("concurrent", [True, False], ids=["together", "one-after-another"])
def test_streams_report_their_failure_and_keep_what_they_committed(con, concurrent):
    loader = loader_for(con)
    streams = {"good": "items", "bad": "items"}
    reports = sync_streams(TwoStreams(), loader, streams, sync_id="s1", raise_on_failure=False, concurrent=concurrent)
    assert reports["good"].error is None and reports["good"].batches == 3
    assert isinstance(reports["bad"].error, ConnectionError) and reports["bad"].batches == 2
    assert rows(con, "select name, count(*) from raw_test.items group by 1 order by 1") == [("bad", 20), ("good", 30)]
    assert loader.read_cursor("bad") == {"page": 1}
    log = dict(rows(con, "select stream, status from raw_test._sync_log where sync_id = 's1'"))
    assert log == {"good": "succeeded", "bad": "failed"}
    with pytest.raises(ConnectionError):
        sync_streams(TwoStreams(), loader, streams, sync_id="s2", concurrent=concurrent)


@pytest.mark.parametrize("key_format", ["{:04d}", "{}"], ids=["one-length", "digits-grow"])
def test_upserts_stay_exact_when_new_keys_skip_their_deletes(con, key_format):
    """Keys from both ends, then inside the gap and over old ones, a failed batch and a fresh
    loader on the same tables: every key once, every child set replaced, as a dict would say
    (keys of one length, and digit ids of 1 to 4 digits whose order is numeric, not VARCHAR's)."""
    expected_items: dict[str, str] = {}
    expected_children: dict[tuple[str, int], str] = {}

    def send(loader: RawLoader, ids: list[int], version: str, sync_id: str) -> None:
        keys = [key_format.format(i) for i in ids]
        items = [{"id": k, "name": f"{k}-{version}"} for k in keys]
        children = [{"item_id": k, "position": p, "value": f"{k}-{version}-{p}"} for k in keys for p in range(2)]
        loader.write_batch(
            Batch(
                "items",
                [
                    TableWrite("items", items),
                    TableWrite("item_children", children, replace_column="item_id", replace_ids=keys),
                ],
            ),
            sync_id,
        )
        expected_items.update({r["id"]: r["name"] for r in items})
        for k in keys:
            for key in [c for c in expected_children if c[0] == k]:
                del expected_children[key]
        expected_children.update({(r["item_id"], r["position"]): r["value"] for r in children})

    loader = loader_for(con)
    for step in range(5):  # up from the bottom and down from the top
        send(loader, list(range(step * 10, step * 10 + 10)), "a", "s1")
        send(loader, list(range(9990 - step * 10, 10000 - step * 10)), "a", "s1")
    send(loader, list(range(500, 510)), "b", "s2")  # inside the gap
    send(loader_for(con), [5000, 5001], "x", "s2")  # another loader on the same tables, in the gap
    send(loader, [5001, 5002], "y", "s2")  # the first one again, over what the other wrote
    send(loader, [3, 505, 9995, 700], "c", "s3")  # old keys among new ones
    with pytest.raises(KeyError):
        loader.write_batch(
            Batch(
                "items",
                [TableWrite("items", [{"id": key_format.format(4), "name": "lost"}]), TableWrite("nope", [{"x": 1}])],
            ),
            "s4",
        )
    send(loader, [4, 8000], "d", "s5")  # after the rollback
    send(loader_for(con), [5, 9991, 8001], "e", "s6")  # another loader on the same tables
    send(loader, [9991, 8001, 8000], "f", "s7")  # the first one again, after the other wrote
    assert dict(rows(con, "select id, name from raw_test.items")) == expected_items
    got = rows(con, "select item_id, position, value from raw_test.item_children")
    assert {(a, b): c for a, b, c in got} == expected_children and len(got) == len(expected_children)


def index_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in rows(con, "select index_name from duckdb_indexes() where schema_name = 'raw_test'")}


def test_a_backfill_into_empty_tables_builds_its_delete_indexes_after_it(con):
    loader = loader_for(con)
    during: list[set[str]] = []

    def crash_at_third(i: int, batch: Batch) -> None:  # noqa: ARG001
        during.append(index_names(con))
        if i == 3:
            raise RuntimeError("injected crash")

    with pytest.raises(RuntimeError, match="injected"):
        sync_stream(PagedSource(95), loader, "items", primary_table="items", sync_id="s1", batch_hook=crash_at_third)
    assert during == [set()] * 4 and index_names(con) == set()  # inserted without maintaining one
    resumed = loader_for(con)  # the table is not empty any more: its index is built first
    assert index_names(con) == {"ix_items_id"}
    sync_stream(PagedSource(95), resumed, "items", primary_table="items", sync_id="s2")
    assert rows(con, "select count(*), count(distinct id) from raw_test.items") == [(95, 95)]

    RawLoader(con, "raw_other", [ITEMS]).ensure_tables()  # tables made by one loader, filled by another
    other = RawLoader(con, "raw_other", [ITEMS])
    seen: list[set[str]] = []

    def other_indexes() -> set[str]:
        return {r[0] for r in rows(con, "select index_name from duckdb_indexes() where schema_name = 'raw_other'")}

    def look(i: int, batch: Batch) -> None:  # noqa: ARG001
        seen.append(other_indexes())

    sync_stream(PagedSource(25), other, "items", primary_table="items", sync_id="s3", batch_hook=look)
    assert seen == [set()] * 3 and other_indexes() == {"ix_items_id"}


def test_a_delete_before_the_indexes_are_built_builds_its_index_and_a_rollback_undoes_it(con):
    loader = loader_for(con)
    children = [{"item_id": "1", "position": p, "value": f"a{p}"} for p in range(3)]
    loader.write_batch(Batch("items", [TableWrite("item_children", children, "item_id", ["1"])]), "s1")
    assert index_names(con) == set()
    again = [TableWrite("item_children", [{"item_id": "1", "position": 0, "value": "b"}], "item_id", ["1"])]
    with pytest.raises(KeyError):
        loader.write_batch(Batch("items", [*again, TableWrite("nope", [{"x": 1}])]), "s2")
    assert index_names(con) == set()  # built for the delete, then rolled back with the batch
    loader.write_batch(Batch("items", again), "s3")
    assert index_names(con) == {"ix_item_children_item_id"}
    assert rows(con, "select item_id, position, value from raw_test.item_children") == [("1", 0, "b")]
    loader.build_indexes(["item_children"])
    assert index_names(con) == {"ix_item_children_item_id"}  # items was not named: still deferred
    loader.build_indexes()
    assert index_names(con) == {"ix_item_children_item_id", "ix_items_id"}
