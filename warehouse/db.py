"""Small DuckDB helpers shared by the warehouse modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...]:
    """The single row of an aggregate query (``select count(*) ...``): never None."""
    row = con.execute(sql, params).fetchone() if params is not None else con.execute(sql).fetchone()
    if row is None:  # an aggregate without GROUP BY always returns one row
        raise RuntimeError(f"query returned no row: {sql}")
    return row
