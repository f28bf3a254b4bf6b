"""Hand-written cases for each Pipedrive rule of docs/metrics.md, through the reference
(:mod:`tests.reference.pipedrive` on top of :mod:`tests.reference.funnel`). Expected values are
worked out by hand from the contract's words."""

from __future__ import annotations

from datetime import date, datetime

from tests.reference.funnel import compute_marts
from tests.reference.pipedrive import stage_entries

PIPELINE_OF = {"1": "1", "2": "1", "3": "1", "4": "1", "5": "1", "7": "2", "8": "2"}
MAPPING = [
    {"source": "pipedrive", "pipeline_id": p, "stage_id": s, "funnel_step": step, "funnel_step_order": order}
    for p, s, step, order in (
        ("1", "1", "qualification", 2),
        ("1", "2", "qualification", 2),
        ("1", "3", "presentation", 3),
        ("1", "4", "presentation", 3),
        ("1", "5", "negotiation", 4),
        ("1", "won", "won", 5),
        ("1", "lost", "lost", ""),
        ("2", "7", "qualification", 2),
        ("2", "8", "presentation", 3),
        ("2", "won", "won", 5),
        ("2", "lost", "lost", ""),
    )
]
RATES = [{"rate_date": "2000-01-01", "currency_code": "USD", "reporting_currency": "USD", "rate": "1"}]
AS_OF = date(2025, 3, 31)


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text + "+00:00").timestamp() * 1000)


def change(cid: int, field: str, old: str | None, new: str | None, at: str) -> dict:
    return {"id": cid, "field_key": field, "old_value": old, "new_value": new, "log_time": ms(at)}


def marts(flow: list[dict], *, stage: str = "1", amount: float = 0.0, leads=(), links=()) -> dict:
    deal = {
        "source": "pipedrive",
        "source_deal_id": "7",
        "deal_name": "Acme",
        "pipeline_id": "1",
        "stage_id": stage,
        "amount": amount,
        "currency_code": "USD",
        "created_at": ms("2025-01-01 00:00:00"),
        "close_date": None,
        "owner_id": "15",
        "archived": False,
    }
    history = stage_entries("7", stage, flow, PIPELINE_OF)
    history[0]["changed_at"] = deal["created_at"]
    return compute_marts(
        [deal], [], history, [], MAPPING, RATES, as_of_date=AS_OF, leads=list(leads), lead_links=list(links)
    )


def visits(result: dict) -> list[tuple]:
    return [
        (v["stage_id"], v["pipeline_id"], v["funnel_step"], v["entered_at"].isoformat(sep=" "))
        for v in result["fct_deal_stage_history"]
    ]


def test_status_changes_start_won_and_lost_visits_other_fields_are_ignored():
    flow = [
        change(1, "stage_id", "1", "3", "2025-01-05 00:00:00"),
        change(2, "value", "0", "500", "2025-01-06 00:00:00"),
        change(3, "user_id", "15", "16", "2025-01-06 00:00:00"),
        change(4, "pipeline_id", "1", "1", "2025-01-06 00:00:00"),
        change(5, "status", "open", "won", "2025-01-09 12:00:00"),
    ]
    result = marts(flow, stage="3")
    assert visits(result) == [
        ("1", "1", "qualification", "2025-01-01 00:00:00"),
        ("3", "1", "presentation", "2025-01-05 00:00:00"),
        ("won", "1", "won", "2025-01-09 12:00:00"),
    ]
    deal = result["fct_deals"][0]
    assert (deal["outcome"], deal["current_stage_id"], deal["closed_at"]) == ("won", "won", datetime(2025, 1, 9, 12))
    assert deal["cycle_days"] == 8.5


def test_stage_moves_while_closed_start_no_visit_and_the_reopen_lands_in_the_moved_stage():
    flow = [
        change(1, "stage_id", "1", "2", "2025-01-02 00:00:00"),
        change(2, "status", "open", "lost", "2025-01-03 00:00:00"),
        change(3, "stage_id", "2", "5", "2025-01-04 00:00:00"),  # moved while lost
        change(4, "status", "lost", "open", "2025-01-10 00:00:00"),  # reopen
    ]
    result = marts(flow, stage="5")
    assert [v[0] for v in visits(result)] == ["1", "2", "lost", "5"]
    assert visits(result)[-1][3] == "2025-01-10 00:00:00"
    deal = result["fct_deals"][0]
    assert deal["reopen_count"] == 1 and deal["outcome"] == "open" and deal["closed_at"] is None


def test_reopen_after_won_is_a_regression_into_the_stage_it_was_closed_in():
    flow = [
        change(1, "stage_id", "1", "5", "2025-01-02 00:00:00"),
        change(2, "status", "open", "won", "2025-01-03 00:00:00"),
        change(3, "status", "won", "open", "2025-01-04 00:00:00"),
        change(4, "status", "open", "lost", "2025-01-08 00:00:00"),
    ]
    result = marts(flow, stage="5")
    history = result["fct_deal_stage_history"]
    assert [v["stage_id"] for v in history] == ["1", "5", "won", "5", "lost"]
    assert [v["is_regression"] for v in history] == [False, False, False, True, False]
    assert history[1]["is_skip"]  # qualification -> negotiation skips presentation
    deal = result["fct_deals"][0]
    assert (deal["reopen_count"], deal["regression_count"], deal["outcome"]) == (1, 1, "lost")
    assert deal["closed_at"] == datetime(2025, 1, 8)  # the latest close


def test_equal_log_times_are_ordered_by_change_id_not_by_list_order():
    # listed newest first, as the flow API does; same second for the move and the reopen
    flow = [
        change(12, "status", "won", "open", "2025-01-05 10:00:00"),
        change(11, "stage_id", "5", "3", "2025-01-05 10:00:00"),
        change(10, "status", "open", "won", "2025-01-03 00:00:00"),
        change(9, "stage_id", "1", "5", "2025-01-02 00:00:00"),
    ]
    assert [v[0] for v in visits(marts(flow, stage="3"))] == ["1", "5", "won", "3"]
    # the other order of ids: the reopen comes first (back to 5), then the move to 3
    flipped = [dict(c, id={12: 11, 11: 12}.get(c["id"], c["id"])) for c in flow]
    assert [v[0] for v in visits(marts(flipped, stage="3"))] == ["1", "5", "won", "5", "3"]


def test_first_visit_from_the_earliest_entries_old_values():
    # created won (earliest status entry's old_value is won), no stage entries: the deal's stage
    result = marts([change(1, "status", "won", "open", "2025-01-05 00:00:00")], stage="4")
    assert [v[0] for v in visits(result)] == ["won", "4"]
    # no flow at all: one visit in the deal's stage
    assert [v[0] for v in visits(marts([], stage="2"))] == ["2"]


def test_a_deleted_status_ends_the_history():
    flow = [
        change(1, "stage_id", "1", "2", "2025-01-02 00:00:00"),
        change(2, "status", "open", "deleted", "2025-01-03 00:00:00"),
        change(3, "stage_id", "2", "3", "2025-01-04 00:00:00"),
    ]
    assert [v[0] for v in visits(marts(flow))] == ["1", "2"]


def test_won_visit_in_a_second_pipeline_carries_the_pipeline_of_the_stage_held():
    flow = [
        change(1, "stage_id", "7", "8", "2025-01-02 00:00:00"),
        change(2, "status", "open", "won", "2025-01-03 00:00:00"),
    ]
    assert visits(marts(flow, stage="8"))[-1][:3] == ("won", "2", "won")


def test_zero_amount_counts_in_the_won_value_figures():
    flow = [change(1, "status", "open", "won", "2025-02-01 00:00:00")]
    outcome = marts(flow, amount=0.0)["mart_deal_outcomes_monthly"][0]
    assert outcome["won_count"] == 1
    assert outcome["won_amount_reporting"] == 0.0 and outcome["avg_won_deal_value"] == 0.0
    assert outcome["median_won_deal_value"] == 0.0


def test_converted_leads_are_dated_by_their_deal_and_advance_step_one():
    leads = [
        {"source": "pipedrive", "source_contact_id": "a", "created_at": ms("2025-01-20 00:00:00"), "channel": None},
        # converted: the deal's add_time is its date, the deal's channel its channel
        {
            "source": "pipedrive",
            "source_contact_id": "b",
            "created_at": ms("2025-01-01 00:00:00"),
            "channel": "Referral",
        },
    ]
    links = [{"source": "pipedrive", "source_deal_id": "7", "source_contact_id": "b"}]
    result = marts([], leads=leads, links=links)
    volume = {(r["lead_date"], r["channel"]): r["new_leads"] for r in result["mart_lead_volume_daily"]}
    assert volume == {(date(2025, 1, 1), "referral"): 1, (date(2025, 1, 20), "unknown"): 1}
    step1 = [r for r in result["mart_stage_conversion_monthly"] if r["funnel_step_order"] == 1]
    assert [(r["entered_count"], r["advanced_count"]) for r in step1] == [(2, 1)]
    assert result["fct_deals"][0]["primary_contact_id"] is None  # persons are not leads
