"""Write connector batches and their cursors into a DuckDB raw schema, atomically.

One `RawLoader` per source schema (``raw_hubspot``, ``raw_pipedrive``, ...). Each batch's table
writes, its sweep and the stream's new cursor are committed in a single DuckDB transaction, so a
crash at any point leaves either the whole batch with its cursor or neither: a re-run resumes
from the stored cursor and upserts, so nothing is lost and nothing is duplicated.

Data moves through Arrow (``pyarrow.Table`` registered on the connection), never row-by-row
``INSERT``s.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from connectors.common import Batch, Sweep, TableSchema, TableWrite
from warehouse.db import fetch_one
from warehouse.key_ranges import shared_key_ranges

CURSOR_TABLE = "_cursors"
SYNC_LOG_TABLE = "_sync_log"
LOAD_COLUMNS: dict[str, str] = {
    "_loaded_at": "TIMESTAMP",
    "_sync_id": "VARCHAR",
    "_is_deleted": "BOOLEAN",
}

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BOOLEAN": pa.bool_(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "TIMESTAMP": pa.timestamp("us"),
}


# DuckDB checkpoints when its WAL passes 16 MB by default, and each checkpoint rewrites the raw
# tables' ART indexes whole: over a backfill that is a cost per batch growing with the table.
# The loader raises the threshold on its database (docs/decisions.md "Loader: deletes only for
# keys a raw table may hold"); closing the connection checkpoints what is left.
CHECKPOINT_THRESHOLD = "256MB"

# DuckDB uses an ART index for `col IN (<constants>)` only while the list is short; longer lists
# become a hash join that scans the whole table. Keep each delete under that limit.
IN_LIST_CHUNK = 400


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal_list(values: Iterable[Any]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def index_columns(table: TableSchema, replace_columns: Iterable[str] = ()) -> list[str]:
    """The VARCHAR columns the loader deletes by: the key's first column and the replace columns.

    Each gets a (non-unique) ART index, so a batch's deletes are index look-ups, linear in the
    batch, instead of scans of the whole raw table (quadratic over a backfill)."""
    wanted = [table.key[0], *replace_columns] if table.key else list(replace_columns)
    out: list[str] = []
    for col in wanted:
        if col not in out and table.columns.get(col, "").upper() == "VARCHAR":
            out.append(col)
    return out


def _key_order_bounds(values: pa.ChunkedArray) -> tuple[str, str] | None:
    """The lowest and highest of ``values`` in the key ranges' order (length, then value)."""
    values = values.drop_null()
    if len(values) == 0:
        return None
    lengths = pc.utf8_length(values)
    span = pc.min_max(lengths)
    low = pc.min(pc.filter(values, pc.equal(lengths, span["min"])))
    high = pc.max(pc.filter(values, pc.equal(lengths, span["max"])))
    return low.as_py(), high.as_py()


@dataclass
class WriteCounts:
    """What one batch changed."""

    rows_written: int = 0
    rows_flagged_deleted: int = 0


class RawLoader:
    """Loads batches for one source into its raw schema (e.g. ``raw_hubspot``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, schema: str, tables: Iterable[TableSchema]):
        self.con = con
        self.schema = schema
        self.tables = {t.name: t for t in tables}
        self._indexed: set[tuple[str, str]] = set()
        # tables this loader found empty when it first touched them: their indexes wait until
        # the load is done (build_indexes) or a delete needs one; _built_now: built in the open
        # transaction (any instance decides for itself, so a loader that skipped ensure_tables too)
        self._touched: set[str] = set()
        self._deferring: set[str] = set()
        self._deferred: set[tuple[str, str]] = set()
        self._built_now: list[tuple[str, str]] = []
        # which key values each indexed column may hold: deletes skip the values it cannot (a
        # backfill's new keys), so a batch costs what it changes, not a look-up per new key
        database = con.execute("select path from duckdb_databases() where database_name = current_database()")
        path = database.fetchall()
        self._keys = shared_key_ranges(path[0][0] if path else None, schema)
        self.changed_tables: set[str] = set()  # written or swept through this loader (Spark mirrors them)

    # ---- DDL ---------------------------------------------------------------------------
    def ensure_tables(self) -> None:
        """Create the schema, the raw tables (empty) and the bookkeeping tables if missing.

        Existing rows are kept. New columns added to a TableSchema are added to the table. The
        delete indexes of a table that is empty are not built yet: a backfill into it inserts
        without maintaining them, and :meth:`build_indexes` (or the first delete that needs
        one) builds them from the loaded rows.
        """
        con, s = self.con, _quote(self.schema)
        con.execute(f"set checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
        con.execute(f"create schema if not exists {s}")
        for table in self.tables.values():
            columns = {**table.columns, **LOAD_COLUMNS}
            cols = ", ".join(f"{_quote(c)} {t}" for c, t in columns.items())
            con.execute(f"create table if not exists {s}.{_quote(table.name)} ({cols})")
            existing = {
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                    [self.schema, table.name],
                ).fetchall()
            }
            for c, t in columns.items():
                if c not in existing:
                    con.execute(f"alter table {s}.{_quote(table.name)} add column {_quote(c)} {t}")
            self._ensure_indexes(table)
        con.execute(
            f"create table if not exists {s}.{CURSOR_TABLE} ("
            "stream varchar primary key, cursor_json varchar not null, "
            "updated_at timestamp not null, sync_id varchar)"
        )
        con.execute(
            f"create table if not exists {s}.{SYNC_LOG_TABLE} ("
            "sync_id varchar, stream varchar, started_at timestamp, finished_at timestamp, "
            "status varchar, batches bigint, records bigint, flagged_deleted bigint, "
            "api_total bigint, warehouse_total bigint, detail varchar)"
        )

    def _ensure_indexes(self, table: TableSchema, replace_columns: Iterable[str] = ()) -> None:
        """Add the delete indexes (also to tables made before they existed: upgrade in place);
        a table found empty the first time this loader touches it gets them later
        (:meth:`build_indexes`)."""
        if table.name not in self._touched:
            self._touched.add(table.name)
            target = f"{_quote(self.schema)}.{_quote(table.name)}"
            (empty,) = self.con.execute(f"select count(*) = 0 from {target}").fetchall()  # fetched whole:
            if empty[0]:  # a result left open would block the batch's register()
                self._deferring.add(table.name)
        for col in index_columns(table, replace_columns):
            if (table.name, col) in self._indexed:
                continue
            if table.name in self._deferring:
                self._deferred.add((table.name, col))
            else:
                self._build_index(table.name, col)

    def _build_index(self, table: str, column: str) -> None:
        name = _quote(f"ix_{table}_{column}")
        target = f"{_quote(self.schema)}.{_quote(table)}"
        self.con.execute(f"create index if not exists {name} on {target} ({_quote(column)})")
        self._indexed.add((table, column))
        self._deferred.discard((table, column))
        self._built_now.append((table, column))

    def build_indexes(self, tables: Iterable[str] | None = None) -> None:
        """Build the delete indexes a load into empty ``tables`` (None: every table) left for
        later: one pass over the loaded rows instead of maintaining them batch by batch. Call it
        when the load of those tables is done (:func:`warehouse.sync.sync_streams` does); until
        then a delete that needs an index builds it first, and the next :meth:`ensure_tables`
        builds any still missing. A table not named stays deferred while it is empty."""
        names = set(self.tables if tables is None else tables)
        self._deferring -= names
        self._touched |= names
        for table, column in sorted(self._deferred):
            if table in names:
                self._build_index(table, column)
        self._built_now.clear()

    def _column_bounds(self, table: str, column: str) -> tuple[str, str] | None:
        """The column's stored min and max in the key ranges' order (length, then value)."""
        key = f"{{'n': length({_quote(column)}), 'v': {_quote(column)}}}"
        sql = f"select min({key}).v, max({key}).v from {_quote(self.schema)}.{_quote(table)}"
        (row,) = self.con.execute(sql).fetchall()
        return None if row[0] is None else (str(row[0]), str(row[1]))

    def _delete_in(self, table: str, column: str, values: list[str]) -> None:
        """``delete … where column in (values)`` for the values the column may hold, in chunks
        short enough to use the index."""
        if column in index_columns(self.tables[table], (column,)):  # VARCHAR: its ranges are kept
            values = self._keys.maybe_stored(table, column, values, self._column_bounds)
            if values and (table, column) in self._deferred:
                self._build_index(table, column)  # a look-up per value, not a scan per chunk
        target = f"{_quote(self.schema)}.{_quote(table)}"
        for i in range(0, len(values), IN_LIST_CHUNK):
            chunk = values[i : i + IN_LIST_CHUNK]
            self.con.execute(f"delete from {target} where {_quote(column)} in ({_literal_list(chunk)})")

    # ---- cursors -------------------------------------------------------------------------
    def read_cursor(self, stream: str) -> dict[str, Any] | None:
        row = self.con.execute(
            f"select cursor_json from {_quote(self.schema)}.{CURSOR_TABLE} where stream = ?",
            [stream],
        ).fetchone()
        return json.loads(row[0]) if row else None

    def reset_cursors(self, streams: Iterable[str] | None = None) -> int:
        """Forget stored cursors so the next sync is a full backfill. Returns how many."""
        table = f"{_quote(self.schema)}.{CURSOR_TABLE}"
        if streams is None:
            n = fetch_one(self.con, f"select count(*) from {table}")[0]
            self.con.execute(f"delete from {table}")
            return int(n)
        names = list(streams)
        n = fetch_one(self.con, f"select count(*) from {table} where list_contains(?, stream)", [names])[0]
        self.con.execute(f"delete from {table} where list_contains(?, stream)", [names])
        return int(n)

    # ---- batches -------------------------------------------------------------------------
    def write_batch(self, batch: Batch, sync_id: str, loaded_at: datetime | None = None) -> WriteCounts:
        """Write a batch's rows, sweep and cursor in one transaction."""
        loaded_at = (loaded_at or datetime.now(UTC)).replace(tzinfo=None)
        counts = WriteCounts()
        con = self.con
        con.execute("begin transaction")
        self._built_now.clear()
        try:
            for write in batch.writes:
                counts.rows_written += self._write_table(write, sync_id, loaded_at)
            if batch.sweep is not None:
                counts.rows_flagged_deleted += self._apply_sweep(batch.sweep)
            if batch.cursor is not None:
                con.execute(
                    f"insert or replace into {_quote(self.schema)}.{CURSOR_TABLE} values (?, ?, ?, ?)",
                    [batch.stream, json.dumps(batch.cursor, sort_keys=True), loaded_at, sync_id],
                )
            con.execute("commit")
            self.changed_tables.update(w.table for w in batch.writes)
            if batch.sweep is not None:
                self.changed_tables.add(batch.sweep.table)
        except BaseException:
            self._keys.forget()  # they may cover rows the rollback removes, or miss restored ones
            con.execute("rollback")
            for built in self._built_now:  # rolled back with the batch
                self._indexed.discard(built)
                self._deferred.add(built)
            self._built_now.clear()
            raise
        return counts

    def _arrow(self, table: TableSchema, rows: list[dict[str, Any]], sync_id: str, loaded_at: datetime) -> pa.Table:
        fields = [pa.field(c, _ARROW_TYPES.get(t.upper(), pa.string())) for c, t in table.columns.items()]
        data = pa.Table.from_pylist(rows, schema=pa.schema(fields))
        n = data.num_rows
        data = data.append_column("_loaded_at", pa.array([loaded_at] * n, pa.timestamp("us")))
        data = data.append_column("_sync_id", pa.array([sync_id] * n, pa.string()))
        return data.append_column("_is_deleted", pa.array([False] * n, pa.bool_()))

    @staticmethod
    def _last_per_key(table: TableSchema, rows: list[dict[str, Any]], data: pa.Table) -> pa.Table:
        """Keep the last row of each key (an API can send one record twice in a batch).

        The check runs in Arrow (a hash group-by in C++); only a batch that has a repeated key
        is deduplicated row by row."""
        if not table.key or data.group_by(list(table.key)).aggregate([]).num_rows == data.num_rows:
            return data
        latest: dict[tuple, int] = {}
        for i, row in enumerate(rows):
            latest[tuple(row.get(k) for k in table.key)] = i
        return data.take(pa.array(sorted(latest.values()), pa.int64()))

    def _write_table(self, write: TableWrite, sync_id: str, loaded_at: datetime) -> int:
        table = self.tables[write.table]
        target = f"{_quote(self.schema)}.{_quote(table.name)}"
        con = self.con
        if write.replace_all:
            con.execute(f"delete from {target}")
            self._keys.emptied(table.name)
        self._ensure_indexes(table, (write.replace_column,) if write.replace_column else ())
        replaced: list[str] = []
        if write.replace_column is not None and write.replace_ids:
            replaced = sorted({str(i) for i in write.replace_ids})
            self._delete_in(table.name, write.replace_column, replaced)
        if not write.rows:
            return 0
        data = self._last_per_key(table, write.rows, self._arrow(table, write.rows, sync_id, loaded_at))
        if not write.replace_all and not self._all_replaced(write, data, replaced):
            self._delete_keys(table, target, data)
        con.register("_batch", data)
        try:
            con.execute(f"insert into {target} by name select * from _batch")
        finally:
            con.unregister("_batch")
        self._record_keys(table, write, data)
        return data.num_rows

    def _record_keys(self, table: TableSchema, write: TableWrite, data: pa.Table) -> None:
        """Extend the key ranges of the indexed columns to the values just inserted."""
        for col in index_columns(table, (write.replace_column,) if write.replace_column else ()):
            bounds = _key_order_bounds(pc.cast(data[col], pa.string()))
            if bounds is not None:
                self._keys.stored(table.name, col, *bounds, self._column_bounds)

    @staticmethod
    def _all_replaced(write: TableWrite, data: pa.Table, replaced: list[str]) -> bool:
        """True when every row's group was just deleted (so no row of its key is left)."""
        col = write.replace_column
        if col is None or not replaced:
            return False
        groups = pc.cast(data[col], pa.string())
        return groups.null_count == 0 and pc.all(pc.is_in(groups, value_set=pa.array(replaced, pa.string()))).as_py()

    def _delete_keys(self, table: TableSchema, target: str, data: pa.Table) -> None:
        """Delete the stored rows whose key is in ``data`` (upsert = delete by key + insert)."""
        first = table.key[0]
        if len(table.key) == 1 and table.columns.get(first, "").upper() == "VARCHAR":
            self._delete_in(table.name, first, sorted(pc.unique(data[first].drop_null()).to_pylist()))
            return
        keys = data.select(list(table.key))
        self.con.register("_keys", keys)
        try:
            match = " and ".join(f"{target}.{_quote(k)} = b.{_quote(k)}" for k in table.key)
            self.con.execute(f"delete from {target} using _keys b where {match}")
        finally:
            self.con.unregister("_keys")

    def _apply_sweep(self, sweep: Sweep) -> int:
        target = f"{_quote(self.schema)}.{_quote(sweep.table)}"
        col = _quote(sweep.key_column)
        ids = pa.table({"id": pa.array([str(i) for i in sweep.live_ids], pa.string())})
        self.con.register("_live_ids", ids)
        try:
            flagged = fetch_one(
                self.con,
                f"select count(*) from {target} where not _is_deleted and {col} not in (select id from _live_ids)",
            )[0]
            self.con.execute(
                f"update {target} set _is_deleted = ({col} not in (select id from _live_ids)) "
                f"where _is_deleted <> ({col} not in (select id from _live_ids))"
            )
        finally:
            self.con.unregister("_live_ids")
        return int(flagged)

    # ---- bookkeeping ---------------------------------------------------------------------
    def count_live(self, table: str, where: str = "") -> int:
        """Rows not flagged deleted (optionally filtered by a SQL predicate)."""
        extra = f" and ({where})" if where else ""
        return int(
            fetch_one(
                self.con, f"select count(*) from {_quote(self.schema)}.{_quote(table)} where not _is_deleted{extra}"
            )[0]
        )

    def count_all(self, table: str) -> int:
        return int(fetch_one(self.con, f"select count(*) from {_quote(self.schema)}.{_quote(table)}")[0])

    def log_sync(self, **fields: Any) -> None:
        cols = list(fields)
        self.con.execute(
            f"insert into {_quote(self.schema)}.{SYNC_LOG_TABLE} ({', '.join(cols)}) "
            f"values ({', '.join('?' for _ in cols)})",
            [fields[c] for c in cols],
        )
