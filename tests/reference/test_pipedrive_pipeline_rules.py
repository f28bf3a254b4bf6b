"""Hand-worked cases for the Pipedrive end-of-day state (docs/metrics.md with docs/metrics.md), through the
reference (:mod:`tests.reference.pipedrive_pipeline` on :mod:`tests.reference.pipeline`).

Every expected value was worked out by hand from the rules (docs/decisions.md "Pipedrive property
history"), not by running the code. Stages 1 (qualification, `deal_probability` 20) and 3
(presentation, 60) of pipeline 1; ``end(D)`` is D + 1 day 00:00 UTC; EUR is 1.1 USD.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.reference.pipedrive import stage_entries
from tests.reference.pipedrive_pipeline import property_entries, stage_probabilities
from tests.reference.pipeline import compute_pipeline_marts
from tests.reference.test_pipedrive_rules import MAPPING, PIPELINE_OF, change, ms

RATES = [
    {"rate_date": "2000-01-01", "currency_code": "USD", "reporting_currency": "USD", "rate": "1"},
    {"rate_date": "2000-01-01", "currency_code": "EUR", "reporting_currency": "USD", "rate": "1.1"},
]
CREATED = "2025-01-01 00:00:00"
STAGE_MOVE = [change(9, "stage_id", "1", "3", "2025-01-03 12:00:00")]


def snapshots(flow: list[dict], *, amount: float = 5500.0, as_of_date: date = date(2025, 1, 6)) -> dict:
    deal = {
        "source": "pipedrive",
        "source_deal_id": "7",
        "pipeline_id": "1",
        "stage_id": "3",
        "amount": amount,
        "currency_code": "USD",
        "created_at": ms(CREATED),
        "close_date": "2025-01-20",
        "owner_id": "15",
        "archived": False,
    }
    history = stage_entries("7", "3", flow, PIPELINE_OF)
    history[0]["changed_at"] = deal["created_at"]
    marts = compute_pipeline_marts(
        [deal],
        history,
        property_entries("7", ms(CREATED), flow),
        stage_probabilities(),
        MAPPING,
        RATES,
        as_of_date=as_of_date,
    )
    return marts


def by_day(marts: dict) -> dict[date, dict]:
    return {r["snapshot_date"]: r for r in marts["fct_pipeline_snapshot_daily"]}


def test_value_set_after_creation_and_a_slipping_expected_close_date():
    flow = [
        *STAGE_MOVE,
        # created without a value (Pipedrive logs 0), in EUR, expected to close on Jan 3
        change(10, "value", "0", "5000", "2025-01-02 09:00:00"),
        change(13, "currency", "EUR", "USD", "2025-01-02 10:00:00"),
        # a typo fixed within the same second, listed newest first: the change id decides
        change(12, "value", "50000", "5500", "2025-01-04 10:00:00"),
        change(11, "value", "5000", "50000", "2025-01-04 10:00:00"),
        # the close date passed on Jan 3 while open; pushed out on Jan 5
        change(14, "expected_close_date", "2025-01-03", "2025-01-20", "2025-01-05 08:00:00"),
    ]
    marts = snapshots(flow)
    s = by_day(marts)
    assert sorted(s) == [date(2025, 1, k) for k in range(1, 7)]
    days = [date(2025, 1, k) for k in range(1, 7)]
    # Jan 1: the values the deal was created with (the earliest changes' old_values)
    assert [s[d]["amount"] for d in days] == [0.0, 5000.0, 5000.0, 5500.0, 5500.0, 5500.0]
    assert [s[d]["currency_code"] for d in days] == ["EUR", "USD", "USD", "USD", "USD", "USD"]
    assert [s[d]["expected_close_date"] for d in days] == [date(2025, 1, 3)] * 4 + [date(2025, 1, 20)] * 2
    assert [s[d]["is_overdue"] for d in days] == [False, False, False, True, False, False]
    assert {r["amount_basis"] for r in s.values()} == {"history"}
    assert [s[d]["stage_id"] for d in days] == ["1", "1", "3", "3", "3", "3"]
    assert [s[d]["stage_probability"] for d in days] == [0.2, 0.2, 0.6, 0.6, 0.6, 0.6]
    assert s[days[0]]["amount_reporting"] == 0.0  # 0 EUR is an amount, not a missing one
    assert [s[d]["weighted_amount_reporting"] for d in days] == pytest.approx(
        [0.0, 1000.0, 3000.0, 3300.0, 3300.0, 3300.0]
    )
    assert [s[d]["days_in_stage"] for d in days] == pytest.approx([1.0, 2.0, 0.5, 1.5, 2.5, 3.5])
    jan4 = [r for r in marts["mart_pipeline_by_stage_daily"] if r["snapshot_date"] == date(2025, 1, 4)]
    assert [(r["funnel_step"], r["overdue_deal_count"], r["overdue_amount_reporting"]) for r in jan4] == [
        ("presentation", 1, 5500.0)
    ]
    assert jan4[0]["deals_missing_amount"] == 0


def test_a_deal_without_value_changes_uses_its_latest_value():
    flow = [*STAGE_MOVE, change(14, "expected_close_date", None, "2025-01-20", "2025-01-02 08:00:00")]
    s = by_day(snapshots(flow, amount=1200.0))
    days = [date(2025, 1, k) for k in range(1, 7)]
    assert {s[d]["amount_basis"] for d in days} == {"latest"}
    assert {s[d]["amount"] for d in days} == {1200.0}
    # a close date first set on Jan 2: none on Jan 1 (not yet set), so not overdue
    assert s[days[0]]["expected_close_date"] is None and not s[days[0]]["is_overdue"]
    assert s[days[1]]["expected_close_date"] == date(2025, 1, 20)
