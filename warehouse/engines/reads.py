"""What a Python-side reader needs from an engine's tables (docs/decisions.md, "Reading PostgreSQL
and Spark back: only what the reader reads").

On PostgreSQL and Spark the anomaly checks, Dagster's row counts and publishing read an in-memory
DuckDB that holds copies of the engine's tables (`warehouse.engines.analytics_connection`). Each
reader names what it reads, so a 100,000-deal warehouse is not copied whole into memory to count
the rows of one mart: relation patterns (``fnmatch`` on ``schema.table``) and, per pattern, the
only columns wanted (e.g. ``_loaded_at`` of the raw tables for the freshness check).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class ReadSet:
    """Relations to copy (patterns on ``schema.table``) and column projections by pattern."""

    relations: tuple[str, ...]
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, relations: Iterable[str], columns: Mapping[str, Iterable[str]] | None = None) -> ReadSet:
        """``relations``: ``schema.table`` names or patterns; a bare ``schema`` means all its tables."""
        patterns = tuple(r if "." in r else f"{r}.*" for r in relations)
        return cls(patterns, {p: tuple(c) for p, c in (columns or {}).items()})

    def wants(self, schema: str, table: str) -> bool:
        name = f"{schema}.{table}"
        return any(fnmatchcase(name, p) for p in self.relations)

    def schemas(self, available: Iterable[str]) -> list[str]:
        """The ``available`` schemas any pattern can match (to skip the others unlisted)."""
        return [s for s in available if any(fnmatchcase(s, p.split(".", 1)[0]) for p in self.relations)]

    def projection(self, schema: str, table: str, present: Iterable[str]) -> list[str] | None:
        """The columns to copy of a wanted table: every column (``present``) unless a column
        pattern matches it; then only those of its columns the table has (may be empty: skip)."""
        present = list(present)
        name = f"{schema}.{table}"
        for pattern, wanted in self.columns.items():
            if fnmatchcase(name, pattern):
                return [c for c in present if c in wanted]
        return present

    def union(self, other: ReadSet) -> ReadSet:
        return ReadSet(self.relations + other.relations, {**self.columns, **other.columns})


__all__ = ["ReadSet"]
