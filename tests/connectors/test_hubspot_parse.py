"""Pure parsing functions, cursor helpers, redaction and the limiter: no HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.common import ConnectorError
from connectors.http.ratelimit import RollingWindowLimiter
from connectors.http.redact import redact
from connectors.hubspot import cursor as cur
from connectors.hubspot.parse import (
    association_rows,
    history_rows,
    owner_row,
    parse_object,
    pipeline_rows,
    v4_association_rows,
)
from connectors.hubspot.schema import DEAL_PROPERTIES, STREAM_TABLES, TABLES
from core.epoch import iso, ms_to_iso, to_epoch_ms

DEAL = {
    "id": "6744192456",
    "properties": {
        "amount": "500",
        "closedate": None,
        "dealname": "Acme renewal",
        "dealstage": "qualifiedtobuy",
        "hs_lastmodifieddate": "2025-02-26T10:00:43.118Z",
        "unknown_prop": "x",
    },
    "propertiesWithHistory": {
        "dealstage": [
            {
                "value": "qualifiedtobuy",
                "timestamp": "2025-02-25T08:00:00.000Z",
                "sourceType": "CRM_UI",
                "sourceId": "userId:28604240",
                "updatedByUserId": 28604240,
            },
            {"value": "appointmentscheduled", "timestamp": "2025-02-24T03:01:01.147Z", "sourceType": "API"},
        ],
        "hs_other": [{"value": "1", "timestamp": "2025-02-24T03:01:01.147Z"}],
    },
    "createdAt": "2025-02-24T03:01:01.147Z",
    "updatedAt": "2025-02-26T10:00:43.118Z",
    "archived": False,
    "associations": {
        "contacts": {
            "results": [
                {"id": "101", "type": "deal_to_contact"},
                {"id": "101", "type": "deal_to_contact"},
                {"id": "102", "type": "deal_to_contact"},
            ]
        }
    },
}


def test_parse_object_keeps_strings_and_fills_missing() -> None:
    row = parse_object(DEAL, DEAL_PROPERTIES)
    assert row["id"] == "6744192456"
    assert row["amount"] == "500"
    assert row["closedate"] is None
    assert row["pipeline"] is None  # not sent -> None
    assert "unknown_prop" not in row
    assert row["archived"] is False and row["archived_at"] is None
    assert row["created_at"] == "2025-02-24T03:01:01.147Z"
    assert set(row) == set(TABLES["deals"].columns)


def test_parse_archived_object() -> None:
    obj = {**DEAL, "archived": True, "archivedAt": "2025-03-01T00:00:00.000Z"}
    row = parse_object(obj, DEAL_PROPERTIES)
    assert row["archived"] is True and row["archived_at"] == "2025-03-01T00:00:00.000Z"


def test_history_rows_keep_api_order_newest_first() -> None:
    rows = history_rows("6744192456", DEAL["propertiesWithHistory"], ["dealstage", "amount"])
    assert [(r["history_index"], r["value"]) for r in rows] == [
        (0, "qualifiedtobuy"),
        (1, "appointmentscheduled"),
    ]
    assert rows[0]["updated_by_user_id"] == 28604240
    assert rows[0]["source_id"] == "userId:28604240"
    assert rows[1]["updated_by_user_id"] is None and rows[1]["source_id"] is None
    assert set(rows[0]) == set(TABLES["deal_property_history"].columns)
    assert history_rows("1", None) == []


def test_association_rows_dedupe() -> None:
    rows = association_rows("6744192456", DEAL["associations"])
    assert sorted(r["contact_id"] for r in rows) == ["101", "102"]
    assert association_rows("1", None) == []


def test_v4_association_rows() -> None:
    result = {
        "from": {"id": "7"},
        "to": [
            {
                "toObjectId": 101,
                "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}],
            },
            {
                "toObjectId": 102,
                "associationTypes": [{"category": "USER_DEFINED", "typeId": 9, "label": "Buyer"}],
            },
        ],
    }
    rows = v4_association_rows(result)
    assert rows == [
        {"deal_id": "7", "contact_id": "101", "association_type": "deal_to_contact"},
        {"deal_id": "7", "contact_id": "102", "association_type": "Buyer"},
    ]


def test_owner_and_pipeline_rows() -> None:
    owner = owner_row(
        {
            "id": "41235678",
            "email": "a@b.c",
            "firstName": "A",
            "lastName": "B",
            "userId": 9,
            "teams": [{"id": "1", "name": "EU", "primary": True}],
            "archived": False,
        }
    )
    assert owner["user_id"] == 9 and owner["teams"].startswith("[{")
    pipeline, stages = pipeline_rows(
        {
            "id": "default",
            "label": "Sales",
            "displayOrder": 0,
            "archived": False,
            "stages": [
                {
                    "id": "closedwon",
                    "label": "Won",
                    "displayOrder": 5,
                    "metadata": {"isClosed": "true", "probability": "1.0"},
                    "archived": False,
                }
            ],
        }
    )
    assert pipeline["display_order"] == 0
    assert stages[0] == {
        "pipeline_id": "default",
        "id": "closedwon",
        "label": "Won",
        "display_order": 5,
        "is_closed": "true",
        "probability": "1.0",
        "archived": False,
        "created_at": None,
        "updated_at": None,
    }


def test_epoch_ms_round_trip() -> None:
    assert to_epoch_ms("2025-02-26T10:00:43.118Z") == 1740564043118
    assert to_epoch_ms("1740564043118") == 1740564043118
    assert to_epoch_ms(None) is None and to_epoch_ms("garbage") is None
    assert ms_to_iso(1740564043118) == "2025-02-26T10:00:43.118Z"


def test_schema_registry() -> None:
    assert set(STREAM_TABLES["deals"]) == {"deals", "deal_property_history", "deal_contact_associations"}
    for stream_tables in STREAM_TABLES.values():
        for table in stream_tables:
            schema = TABLES[table]
            assert schema.description and set(schema.key) <= set(schema.columns)


def test_cursor_state_helpers() -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    st = cur.load_state(None, "deals", now)
    assert st["phase"] == "backfill" and st["version"] == 1
    assert cur.sweep_due(st, now, 168)
    st["last_full_sweep_at"] = iso(now - timedelta(hours=10))
    assert not cur.sweep_due(st, now, 168) and cur.sweep_due(st, now, 5)
    with pytest.raises(ConnectorError, match="Delete the stored cursor"):
        cur.load_state({"version": 99}, "deals", now)
    assert iso(now) == "2026-11-01T00:00:00.000Z"


def test_redact_masks_secrets_and_token_shapes() -> None:
    secret = "pat-na1-11111111-2222-3333-4444-555555555555"
    text = f"GET https://x/?token={secret} headers={{'Authorization': 'Bearer {secret}'}}"
    out = redact(text, [secret])
    assert secret not in out and "***" in out
    assert "abc" not in redact("Bearer abc.def", [])
    assert redact("sk%2Fsecret value", ["sk/secret"]) == "*** value"


def test_limiter_never_exceeds_window() -> None:
    clock = [0.0]
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        clock[0] += s

    limiter = RollingWindowLimiter(5, 10.0, clock=lambda: clock[0], sleep=sleep)
    stamps = []
    for _ in range(12):
        limiter.acquire()
        stamps.append(clock[0])
    for t in stamps:
        assert sum(1 for u in stamps if t <= u < t + 10.0) <= 5
    assert stamps[-1] >= 20.0
    per_sec = RollingWindowLimiter.per_second(0.5)
    assert per_sec.max_calls == 1 and per_sec.window_s == 2.0


def test_a_held_call_keeps_its_slot_until_a_window_after_it_completes() -> None:
    """hold/release: a call the server may count as late as its completion never lets one more
    into the server's window, whatever the round trip."""
    clock = [0.0]

    def sleep(s: float) -> None:
        clock[0] += s

    limiter = RollingWindowLimiter(2, 10.0, clock=lambda: clock[0], sleep=sleep)
    assert limiter.acquire(hold=True) == 0.0
    assert limiter.acquire(hold=True) == 0.0  # two in flight: the window is full
    clock[0] = 3.0
    limiter.release()  # the first completes at 3 s: its slot frees at 13 s, not at 10 s
    clock[0] = 4.0
    limiter.release()
    assert limiter.in_window() == 2
    limiter.acquire(hold=True)
    assert clock[0] == 13.0
    # all slots in flight and none completed: it waits (polling) until one completes
    limiter2 = RollingWindowLimiter(1, 10.0, clock=lambda: clock[0], sleep=sleep)
    limiter2.acquire(hold=True)
    polls: list[float] = []

    def sleep_then_release(s: float) -> None:
        polls.append(s)
        clock[0] += s
        if len(polls) == 3:
            limiter2.release()

    limiter2._sleep = sleep_then_release
    start = clock[0]
    limiter2.acquire()
    assert len(polls) > 3 and clock[0] >= start + 10.0  # the completed call's window ran out first
