"""Hand-written cases pinning the reference quarantine (tests/reference/quarantine.py) to the
contract's words: docs/metrics.md "Quarantine"."""

from __future__ import annotations

from datetime import date, datetime

from tests.reference.funnel import without_quarantined
from tests.reference.quarantine import AFTER_LOAD, BEFORE_CREATION, deal_faults, quarantine_rows

LOADED = datetime(2026, 11, 1, 12, 0)


def test_an_entry_before_creation_or_more_than_an_hour_after_the_load_is_a_fault():
    created = "2026-03-01T00:00:00"
    assert deal_faults(created, ["2026-03-01T00:00:00", "2026-11-01T13:00:00"], LOADED) == []  # boundaries hold
    assert deal_faults(created, ["2026-02-28T23:59:59"], LOADED) == [BEFORE_CREATION]
    assert deal_faults(created, ["2026-11-01T13:00:01"], LOADED) == [AFTER_LOAD]
    assert deal_faults(created, ["2020-01-01T00:00:00", "2030-01-01T00:00:00"], LOADED) == [BEFORE_CREATION, AFTER_LOAD]


def test_only_deals_the_marts_would_show_are_listed_one_row_per_rule():
    deals = [
        {"source": "hubspot", "source_deal_id": "1", "created_at": "2026-03-01T00:00:00"},
        {"source": "hubspot", "source_deal_id": "2", "created_at": "2026-03-01T00:00:00", "archived": True},
        {"source": "hubspot", "source_deal_id": "3", "created_at": "2026-11-01T00:00:00"},  # after as_of
        {"source": "pipedrive", "source_deal_id": "1", "created_at": "2026-03-01T00:00:00"},
    ]
    bad = ["2020-01-01T00:00:00", "2030-01-01T00:00:00"]
    times = {"hubspot:1": bad, "hubspot:2": bad, "hubspot:3": bad, "pipedrive:1": ["2026-03-02T00:00:00"]}
    rows = quarantine_rows(deals, times, loaded_by=LOADED, as_of_date=date(2026, 10, 31))
    assert [(r["deal_id"], r["rule"], r["entity"], r["source_record_id"]) for r in rows] == [
        ("hubspot:1", BEFORE_CREATION, "deal", "1"),
        ("hubspot:1", AFTER_LOAD, "deal", "1"),
    ]


def test_quarantined_deals_leave_every_deal_keyed_input_and_their_contacts_stay():
    inputs = {
        "deals": [
            {"source": "hubspot", "source_deal_id": "1", "created_at": "2026-03-01T00:00:00"},
            {"source": "hubspot", "source_deal_id": "2", "created_at": "2026-03-01T00:00:00"},
        ],
        "stage_history": [
            {"source": "hubspot", "source_deal_id": "1", "changed_at": "2026-02-01T00:00:00"},
            {"source": "hubspot", "source_deal_id": "2", "changed_at": "2026-03-01T00:00:00"},
        ],
        "deal_contacts": [
            {"source": "hubspot", "source_deal_id": "1", "source_contact_id": "7"},
            {"source": "hubspot", "source_deal_id": "2", "source_contact_id": "8"},
        ],
        "contacts": [{"source": "hubspot", "source_contact_id": "7"}, {"source": "hubspot", "source_contact_id": "8"}],
    }
    out = without_quarantined(inputs, loaded_by=LOADED)
    assert [d["source_deal_id"] for d in out["deals"]] == ["2"]
    assert [e["source_deal_id"] for e in out["stage_history"]] == ["2"]
    assert [a["source_contact_id"] for a in out["deal_contacts"]] == ["8"]
    assert out["contacts"] == inputs["contacts"]
