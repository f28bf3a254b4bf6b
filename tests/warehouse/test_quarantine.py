"""The quarantine's reader and summary (warehouse/quarantine.py): counts per rule, ids, the run message."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.quarantine import (
    CHECK_NAME,
    TABLE,
    QuarantinedRecord,
    read_quarantined,
    read_summary,
    run_message,
    summarize,
)


def _deal(source: str, sid: str, rule: str) -> QuarantinedRecord:
    return QuarantinedRecord(source, "deal", sid, f"{source}:{sid}", rule, f"{rule} on {sid}")


def test_empty_quarantine_passes_and_prints_nothing(tmp_path: Path) -> None:
    summary = summarize([])
    assert summary.passed and summary.total == 0 and summary.per_rule == {} and summary.sample_ids == []
    assert run_message(summary, tmp_path / "x.duckdb") is None
    assert run_message(None, tmp_path / "x.duckdb") is None


def test_counts_per_rule_most_frequent_first_and_distinct_records() -> None:
    rows = [
        _deal("pipedrive", "7", "stage_change_after_load"),
        _deal("hubspot", "12", "stage_change_before_deal_creation"),
        _deal("hubspot", "3", "stage_change_before_deal_creation"),
        _deal("hubspot", "3", "stage_change_after_load"),
        _deal("hubspot", "9", "stage_change_before_deal_creation"),
    ]
    summary = summarize(rows)
    assert not summary.passed
    assert summary.total == 5 and summary.records == 4
    assert list(summary.per_rule.items()) == [
        ("stage_change_before_deal_creation", 3),
        ("stage_change_after_load", 2),
    ]
    # (source, rule, key) order, each record once
    assert summary.sample_ids == ["hubspot:3", "hubspot:12", "hubspot:9", "pipedrive:7"]
    assert "4 record(s) quarantined" in summary.headline()


def test_at_most_twenty_ids_and_non_deal_records_keyed_by_entity() -> None:
    rows = [_deal("hubspot", f"{i:03d}", "stage_change_after_load") for i in range(30)]
    rows.append(QuarantinedRecord("hubspot", "contact", "55", None, "created_after_load", "x"))
    summary = summarize(rows)
    assert len(summary.sample_ids) == 20 and summary.records == 31
    assert summarize(rows[-1:]).sample_ids == ["hubspot:contact:55"]


def test_reads_the_table_and_tells_where_to_look(tmp_path: Path) -> None:
    path = tmp_path / "sales_marts.duckdb"
    with duckdb.connect(str(path)) as con:
        assert read_quarantined(con) == []  # no table yet: nothing quarantined
        con.execute("create schema marts")
        con.execute(
            "create table marts.quarantined_records (source varchar, entity varchar, source_record_id varchar, "
            "deal_id varchar, rule varchar, detail varchar)"
        )
        con.execute(
            "insert into marts.quarantined_records values "
            "('hubspot', 'deal', '42', 'hubspot:42', 'stage_change_before_deal_creation', 'entry dated 2020-01-01')"
        )
        assert read_quarantined(con) == [
            QuarantinedRecord(
                "hubspot", "deal", "42", "hubspot:42", "stage_change_before_deal_creation", "entry dated 2020-01-01"
            )
        ]
    summary = read_summary(path)
    assert summary is not None and summary.total == 1
    message = run_message(summary, path)
    assert message is not None
    assert TABLE in message and CHECK_NAME in message and "hubspot:42" in message and "1 record(s)" in message
    assert read_summary(tmp_path / "missing.duckdb") is None
