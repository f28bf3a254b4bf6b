"""The quarantine (docs/metrics.md, "Quarantine"): read `marts.quarantined_records` and say what it holds.

dbt finds the records with a structural fault of their own (`int_records_quarantined`) and
leaves their deals out of every mart; this module only reads the published list and summarises
it for the `quarantined_records` Dagster check and for `make run` / `make demo`. The summary is
a pure function over the rows, so it is tested without a warehouse.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.engines.reads import ReadSet

TABLE = "marts.quarantined_records"
READS = ReadSet.of([TABLE])  # what the check copies from PostgreSQL or Spark
CHECK_NAME = "quarantined_records"
SAMPLE_SIZE = 20  # ids named in the check's metadata and the run's message
COLUMNS = ("source", "entity", "source_record_id", "deal_id", "rule", "detail")


@dataclass(frozen=True)
class QuarantinedRecord:
    source: str
    entity: str
    source_record_id: str
    deal_id: str | None
    rule: str
    detail: str

    @property
    def record_key(self) -> str:
        """`deal_id` for deals, else `<source>:<entity>:<id>`: what a person searches for."""
        return self.deal_id or f"{self.source}:{self.entity}:{self.source_record_id}"


@dataclass(frozen=True)
class QuarantineSummary:
    total: int
    records: int  # distinct records (a record may break several rules)
    per_rule: dict[str, int] = field(default_factory=dict)
    sample_ids: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.total == 0

    def headline(self) -> str:
        if self.passed:
            return "No record is quarantined."
        rules = ", ".join(f"{rule}: {n}" for rule, n in self.per_rule.items())
        return f"{self.records} record(s) quarantined, left out of the marts ({rules})."


def summarize(rows: list[QuarantinedRecord], sample_size: int = SAMPLE_SIZE) -> QuarantineSummary:
    """Count per rule (most frequent first, ties by name) and the first ``sample_size`` record
    keys in (source, rule, id) order."""
    per_rule = Counter(r.rule for r in rows)
    ordered = sorted(rows, key=lambda r: (r.source, r.rule, r.record_key))
    keys: list[str] = []
    for r in ordered:
        if r.record_key not in keys:
            keys.append(r.record_key)
    return QuarantineSummary(
        total=len(rows),
        records=len({(r.source, r.entity, r.source_record_id) for r in rows}),
        per_rule=dict(sorted(per_rule.items(), key=lambda kv: (-kv[1], kv[0]))),
        sample_ids=keys[:sample_size],
    )


def read_quarantined(con: duckdb.DuckDBPyConnection) -> list[QuarantinedRecord]:
    """Every row of `marts.quarantined_records`; none when the table does not exist yet."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' "
        "and table_name = 'quarantined_records'"
    ).fetchone()
    if not exists or not exists[0]:
        return []
    rows = con.execute(f"select {', '.join(COLUMNS)} from {TABLE}").fetchall()
    return [QuarantinedRecord(*row) for row in rows]


def read_summary(database: Path) -> QuarantineSummary | None:
    """The summary of a DuckDB file (opened read-only); None when the file does not exist."""
    if not database.exists():
        return None
    with duckdb.connect(str(database), read_only=True) as con:
        return summarize(read_quarantined(con))


def run_message(summary: QuarantineSummary | None, database: Path) -> str | None:
    """What `make run` / `make demo` print after a successful run when records were quarantined."""
    if summary is None or summary.passed:
        return None
    ids = ", ".join(summary.sample_ids)
    more = f" (first {len(summary.sample_ids)})" if summary.records > len(summary.sample_ids) else ""
    return (
        f"Quarantined: {summary.headline()} Look at {TABLE} in {database} and at the Dagster check "
        f"`{CHECK_NAME}` (make ui); fix these records in the CRM and the next run takes them back. "
        f"Ids{more}: {ids}"
    )
