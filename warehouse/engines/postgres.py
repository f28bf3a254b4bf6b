"""PostgreSQL as the warehouse: the raw loader (COPY + upsert by key) and reading tables back.

The loader keeps `warehouse.loader.RawLoader`'s contract: a batch's table writes, its sweep and
the stream's cursor commit in ONE transaction; rows upsert by the table's key (a PRIMARY KEY,
``insert … on conflict do update``); groups (e.g. a deal's property history) are replaced whole;
sweeps flag ``_is_deleted``. Rows travel with ``COPY … FROM STDIN`` into a temporary table, never
row-by-row ``INSERT``s. The connection comes from libpq's own variables (PGHOST, PGPORT, PGUSER,
PGPASSWORD, PGDATABASE); every session runs in UTC, so no value depends on the server's zone.
"""

from __future__ import annotations

import importlib
import io
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from connectors.common import Batch, Sweep, TableSchema, TableWrite
from warehouse.loader import CURSOR_TABLE, LOAD_COLUMNS, SYNC_LOG_TABLE, WriteCounts

PG_TYPES: dict[str, str] = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "DOUBLE": "double precision",
    "TIMESTAMP": "timestamp",
}


def _require_psycopg2() -> Any:
    try:
        psycopg2 = importlib.import_module("psycopg2")
    except ImportError as exc:  # pragma: no cover - depends on the optional extras
        raise RuntimeError("WAREHOUSE_TARGET=postgres needs the PostgreSQL extras: run `make setup-postgres`.") from exc
    return psycopg2


@contextmanager
def connect() -> Iterator[Any]:
    """A psycopg2 connection from the PG* variables, session time zone UTC."""
    psycopg2 = _require_psycopg2()
    try:
        con = psycopg2.connect("")
    except psycopg2.OperationalError as exc:
        raise RuntimeError(
            "Cannot reach the PostgreSQL warehouse (PGHOST/PGPORT/PGUSER/PGDATABASE; PGPASSWORD for the "
            f"password): {str(exc).strip()}"
        ) from None
    try:
        with con.cursor() as cur:
            cur.execute("set time zone 'UTC'")
        con.commit()
        yield con
    finally:
        con.close()


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _copy_value(value: Any) -> str:
    """One field of COPY's text format (NULL is \\N; backslash, tab and newlines escaped)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if not isinstance(value, str):
        value = str(value)
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_text(rows: Iterable[Iterable[Any]]) -> io.StringIO:
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join(_copy_value(v) for v in row))
        buf.write("\n")
    buf.seek(0)
    return buf


class PostgresRawLoader:
    """`RawLoader`'s interface on a psycopg2 connection (one per source schema)."""

    def __init__(self, con: Any, schema: str, tables: Iterable[TableSchema]):
        self.con = con
        self.schema = schema
        self.tables = {t.name: t for t in tables}

    def _t(self, table: str) -> str:
        return f"{_q(self.schema)}.{_q(table)}"

    def ensure_tables(self) -> None:
        with self.con.cursor() as cur:
            cur.execute(f"create schema if not exists {_q(self.schema)}")
            for table in self.tables.values():
                columns = {**table.columns, **LOAD_COLUMNS}
                cols = ", ".join(f"{_q(c)} {PG_TYPES.get(t.upper(), 'text')}" for c, t in columns.items())
                pk = f", primary key ({', '.join(_q(k) for k in table.key)})" if table.key else ""
                cur.execute(f"create table if not exists {self._t(table.name)} ({cols}{pk})")
                cur.execute(
                    "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
                    [self.schema, table.name],
                )
                existing = {r[0] for r in cur.fetchall()}
                for c, t in columns.items():
                    if c not in existing:
                        cur.execute(f"alter table {self._t(table.name)} add column {_q(c)} {PG_TYPES.get(t.upper())}")
            cur.execute(
                f"create table if not exists {self._t(CURSOR_TABLE)} (stream text primary key, "
                "cursor_json text not null, updated_at timestamp not null, sync_id text)"
            )
            cur.execute(
                f"create table if not exists {self._t(SYNC_LOG_TABLE)} (sync_id text, stream text, "
                "started_at timestamp, finished_at timestamp, status text, batches bigint, records bigint, "
                "flagged_deleted bigint, api_total bigint, warehouse_total bigint, detail text)"
            )
        self.con.commit()

    def build_indexes(self, tables: Iterable[str] | None = None) -> None:
        """`RawLoader.build_indexes`: nothing is deferred here (PostgreSQL keeps its own)."""

    def read_cursor(self, stream: str) -> dict[str, Any] | None:
        with self.con.cursor() as cur:
            cur.execute(f"select cursor_json from {self._t(CURSOR_TABLE)} where stream = %s", [stream])
            row = cur.fetchone()
        self.con.commit()
        return json.loads(row[0]) if row else None

    def reset_cursors(self, streams: Iterable[str] | None = None) -> int:
        with self.con.cursor() as cur:
            if streams is None:
                cur.execute(f"delete from {self._t(CURSOR_TABLE)}")
            else:
                cur.execute(f"delete from {self._t(CURSOR_TABLE)} where stream = any(%s)", [list(streams)])
            n = cur.rowcount
        self.con.commit()
        return int(n)

    def write_batch(self, batch: Batch, sync_id: str, loaded_at: datetime | None = None) -> WriteCounts:
        loaded_at = (loaded_at or datetime.now(UTC)).replace(tzinfo=None)
        counts = WriteCounts()
        try:
            with self.con.cursor() as cur:
                for write in batch.writes:
                    counts.rows_written += self._write_table(cur, write, sync_id, loaded_at)
                if batch.sweep is not None:
                    counts.rows_flagged_deleted += self._apply_sweep(cur, batch.sweep)
                if batch.cursor is not None:
                    cur.execute(
                        f"insert into {self._t(CURSOR_TABLE)} values (%s, %s, %s, %s) on conflict (stream) do update "
                        "set cursor_json = excluded.cursor_json, updated_at = excluded.updated_at, "
                        "sync_id = excluded.sync_id",
                        [batch.stream, json.dumps(batch.cursor, sort_keys=True), loaded_at, sync_id],
                    )
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        return counts

    def _write_table(self, cur: Any, write: TableWrite, sync_id: str, loaded_at: datetime) -> int:
        table = self.tables[write.table]
        target = self._t(table.name)
        if write.replace_all:
            cur.execute(f"delete from {target}")
        if write.replace_column is not None and write.replace_ids:
            cur.execute(
                f"delete from {target} where {_q(write.replace_column)} = any(%s)",
                [[str(i) for i in write.replace_ids]],
            )
        if not write.rows:
            return 0
        latest: dict[tuple, dict[str, Any]] = {tuple(r.get(k) for k in table.key): r for r in write.rows}
        rows = list(latest.values())
        columns = [*table.columns, *LOAD_COLUMNS]
        cur.execute(f"create temp table if not exists _batch_{table.name} (like {target}) on commit drop")
        cur.execute(f"truncate _batch_{table.name}")
        data = copy_text([*(r.get(c) for c in table.columns), loaded_at, sync_id, False] for r in rows)
        cols = ", ".join(_q(c) for c in columns)
        cur.copy_expert(f"copy _batch_{table.name} ({cols}) from stdin", data)
        keys = ", ".join(_q(k) for k in table.key)
        updates = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in columns if c not in table.key)
        cur.execute(
            f"insert into {target} ({cols}) select {cols} from _batch_{table.name} "
            f"on conflict ({keys}) do update set {updates}"
        )
        return len(rows)

    def _apply_sweep(self, cur: Any, sweep: Sweep) -> int:
        target, col = self._t(sweep.table), _q(sweep.key_column)
        live = [str(i) for i in sweep.live_ids]
        cur.execute(f"select count(*) from {target} where not _is_deleted and {col} <> all(%s)", [live])
        flagged = cur.fetchone()[0]
        cur.execute(
            f"update {target} set _is_deleted = ({col} <> all(%s)) where _is_deleted <> ({col} <> all(%s))",
            [live, live],
        )
        return int(flagged)

    def count_live(self, table: str, where: str = "") -> int:
        extra = f" and ({where})" if where else ""
        return self._scalar(f"select count(*) from {self._t(table)} where not _is_deleted{extra}")

    def count_all(self, table: str) -> int:
        return self._scalar(f"select count(*) from {self._t(table)}")

    def _scalar(self, sql: str) -> int:
        with self.con.cursor() as cur:
            cur.execute(sql)
            value = cur.fetchone()[0]
        self.con.commit()
        return int(value)

    def log_sync(self, **fields: Any) -> None:
        cols = list(fields)
        with self.con.cursor() as cur:
            cur.execute(
                f"insert into {self._t(SYNC_LOG_TABLE)} ({', '.join(cols)}) values ({', '.join('%s' for _ in cols)})",
                [fields[c] for c in cols],
            )
        self.con.commit()


# ---- reading tables back (checks, publish) --------------------------------------------------
def _arrow_type(data_type: str, precision: int | None, scale: int | None) -> pa.DataType:
    t = data_type.lower()
    if t == "numeric":
        return pa.decimal128(precision, scale or 0) if precision else pa.float64()
    return {
        "text": pa.string(),
        "character varying": pa.string(),
        "boolean": pa.bool_(),
        "smallint": pa.int16(),
        "integer": pa.int32(),
        "bigint": pa.int64(),
        "double precision": pa.float64(),
        "real": pa.float32(),
        "date": pa.date32(),
        "timestamp without time zone": pa.timestamp("us"),
        "timestamp with time zone": pa.timestamp("us", tz="UTC"),
    }.get(t, pa.string())


def _py(value: Any, dtype: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_string(dtype) and not isinstance(value, str):
        return str(value)
    if pa.types.is_floating(dtype) and isinstance(value, Decimal):
        return float(value)
    if pa.types.is_timestamp(dtype) and isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    if pa.types.is_date(dtype) and isinstance(value, datetime):
        return value.date()
    return value


def list_tables(con: Any, schemas: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(schema, table) of the base tables and views in ``schemas`` (default: all but the system ones)."""
    with con.cursor() as cur:
        cur.execute(
            "select table_schema, table_name from information_schema.tables where table_schema not in "
            "('pg_catalog', 'information_schema') and table_schema not like 'pg_%%' order by 1, 2"
        )
        found = [(s, t) for s, t in cur.fetchall()]
    con.commit()
    wanted = set(schemas) if schemas is not None else None
    return [(s, t) for s, t in found if wanted is None or s in wanted]


READ_BATCH_ROWS = 50_000
"""Rows per Arrow batch when a table is read back: a server-side cursor streams the table, so
reading it never holds more than one batch of Python rows (docs/decisions.md, "Reading
PostgreSQL and Spark back: only what the reader reads")."""


def table_fields(con: Any, schema: str, table: str, columns: Iterable[str] | None = None) -> list[pa.Field]:
    """The Arrow fields of ``schema.table`` (``columns`` only, in table order), with the
    engine's column types (numeric(p,s) → decimal, …)."""
    with con.cursor() as cur:
        cur.execute(
            "select column_name, data_type, numeric_precision, numeric_scale from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            [schema, table],
        )
        found = cur.fetchall()
    con.commit()
    wanted = set(columns) if columns is not None else None
    return [pa.field(name, _arrow_type(dt, p, s)) for name, dt, p, s in found if wanted is None or name in wanted]


def read_batches(
    con: Any, schema: str, table: str, fields: list[pa.Field], batch_rows: int = READ_BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """``fields`` of ``schema.table`` as Arrow batches of at most ``batch_rows`` rows."""
    arrow_schema = pa.schema(fields)
    with con.cursor(name="read_back") as cur:  # server-side: PostgreSQL keeps the rest
        cur.itersize = batch_rows
        cur.execute(f"select {', '.join(_q(f.name) for f in fields)} from {_q(schema)}.{_q(table)}")
        while rows := cur.fetchmany(batch_rows):
            arrays = [pa.array([_py(r[i], f.type) for r in rows], f.type) for i, f in enumerate(fields)]
            yield pa.RecordBatch.from_arrays(arrays, schema=arrow_schema)
    con.commit()


def read_table(con: Any, schema: str, table: str, columns: Iterable[str] | None = None) -> pa.Table:
    """A whole table (``columns`` only, when given) as Arrow, with the engine's column types."""
    fields = table_fields(con, schema, table, columns)
    return pa.Table.from_batches(list(read_batches(con, schema, table, fields)), schema=pa.schema(fields))


__all__ = ["PostgresRawLoader", "connect", "copy_text", "list_tables", "read_batches", "read_table", "table_fields"]
