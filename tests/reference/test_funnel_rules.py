"""One hand-worked case per edge rule of docs/metrics.md for the reference implementation.

Every expected value below was worked out by hand from docs/metrics.md, not by running the code.
Unless a test says otherwise, ``as_of_date`` is 2026-03-31, so ``as_of`` = 2026-04-01 00:00 UTC.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.reference.funnel import ReferenceError, compute_marts

AS_OF = date(2026, 3, 31)

MAPPING = [
    {"source": "hubspot", "pipeline_id": "default", "stage_id": s, "funnel_step": step, "funnel_step_order": order}
    for s, step, order in (
        ("appointmentscheduled", "qualification", "2"),
        ("qualifiedtobuy", "qualification", "2"),
        ("presentationscheduled", "presentation", "3"),
        ("decisionmakerboughtin", "negotiation", "4"),
        ("contractsent", "negotiation", "4"),
        ("closedwon", "won", "5"),
        ("closedlost", "lost", ""),
    )
]
RATES = [
    {"rate_date": "2000-01-01", "currency_code": "USD", "reporting_currency": "USD", "rate": "1.0"},
    {"rate_date": "2026-01-01", "currency_code": "EUR", "reporting_currency": "USD", "rate": "1.10"},
    {"rate_date": "2026-02-01", "currency_code": "EUR", "reporting_currency": "USD", "rate": "1.20"},
    {"rate_date": "2026-02-15", "currency_code": "EUR", "reporting_currency": "USD", "rate": "1.30"},
]


def T(text: str) -> datetime:
    """'2026-03-01 12:00' -> naive UTC datetime."""
    return datetime.fromisoformat(text)


def deal(
    did: str,
    stages: list[tuple[str, str]],
    *,
    created: str | None = None,
    amount="1000",
    currency="USD",
    close_date=None,
    **extra,
) -> dict:
    """A HubSpot deal whose stage history is ``stages`` [(stage_id, time)], oldest first."""
    return {
        "source": "hubspot",
        "source_deal_id": did,
        "deal_name": f"Deal {did}",
        "pipeline_id": "default",
        "stage_id": stages[-1][0],
        "amount": amount,
        "currency_code": currency,
        "created_at": T(created or stages[0][1]),
        "close_date": close_date,
        "owner_id": "7",
        "archived": False,
        "_stages": stages,
        **extra,
    }


def contact(cid: str, created: str, channel="ORGANIC_SEARCH", **extra) -> dict:
    return {
        "source": "hubspot",
        "source_contact_id": cid,
        "created_at": T(created),
        "channel": channel,
        "archived": False,
        **extra,
    }


def run(deals=(), contacts=(), links=(), *, as_of_date=AS_OF, history=None) -> dict:
    """compute_marts over the given deals; history defaults to each deal's ``_stages``."""
    if history is None:
        history = [
            {"source": "hubspot", "source_deal_id": d["source_deal_id"], "seq": k, "stage_id": s, "changed_at": T(t)}
            for d in deals
            for k, (s, t) in enumerate(d["_stages"])
        ]
    dc = [{"source": "hubspot", "source_deal_id": d, "source_contact_id": c} for d, c in links]
    return compute_marts(list(deals), list(contacts), history, dc, MAPPING, RATES, as_of_date=as_of_date)


def visits(marts: dict, did: str) -> list[dict]:
    return [v for v in marts["fct_deal_stage_history"] if v["source_deal_id"] == did]


def the_deal(marts: dict, did: str) -> dict:
    (row,) = [d for d in marts["fct_deals"] if d["source_deal_id"] == did]
    return row


def flags(vs: list[dict]) -> list[tuple]:
    return [(v["funnel_step"], v["is_regression"], v["is_skip"]) for v in vs]


# ---------------------------------------------------------------- visits and flags


def test_regression_is_flagged_and_a_recovery_is_not():
    m = run(
        [
            deal(
                "1",
                [
                    ("appointmentscheduled", "2026-03-01 00:00"),
                    ("presentationscheduled", "2026-03-03 00:00"),
                    ("qualifiedtobuy", "2026-03-05 00:00"),
                    ("presentationscheduled", "2026-03-07 00:00"),
                ],
            )
        ]
    )
    vs = visits(m, "1")
    assert flags(vs) == [
        ("qualification", False, False),
        ("presentation", False, False),
        ("qualification", True, False),
        ("presentation", False, False),
    ]
    assert [v["visit_number"] for v in vs] == [1, 2, 3, 4]
    assert vs[2]["dwell_days"] == 2.0
    d = the_deal(m, "1")
    assert (d["regression_count"], d["skip_count"], d["max_funnel_step_order"]) == (1, 0, 3)


def test_skipped_step_is_flagged_and_counts_as_reached():
    m = run([deal("1", [("appointmentscheduled", "2026-01-20 10:00"), ("contractsent", "2026-02-03 10:00")])])
    assert flags(visits(m, "1")) == [("qualification", False, False), ("negotiation", False, True)]
    assert the_deal(m, "1")["skip_count"] == 1
    # presentation (3) is reached at the first entry into a stage of order >= 3: 2026-02-03
    got = [
        (r["cohort_month"], r["funnel_step_order"], r["entered_count"], r["advanced_count"], r["conversion_rate"])
        for r in m["mart_stage_conversion_monthly"]
    ]
    assert got == [(date(2026, 1, 1), 2, 1, 1, 1.0), (date(2026, 2, 1), 3, 1, 1, 1.0), (date(2026, 2, 1), 4, 1, 0, 0.0)]


def test_reopened_won_deal():
    m = run(
        [
            deal(
                "1",
                [
                    ("appointmentscheduled", "2026-01-05 00:00"),
                    ("presentationscheduled", "2026-01-08 00:00"),
                    ("contractsent", "2026-01-10 00:00"),
                    ("closedwon", "2026-01-15 00:00"),
                    ("contractsent", "2026-01-20 00:00"),
                    ("closedwon", "2026-02-04 12:00"),
                ],
            )
        ]
    )
    vs = visits(m, "1")
    assert flags(vs) == [
        ("qualification", False, False),
        ("presentation", False, False),
        ("negotiation", False, False),
        ("won", False, False),
        ("negotiation", True, False),
        ("won", False, False),
    ]
    assert vs[3]["exited_at"] == T("2026-01-20 00:00") and vs[3]["dwell_days"] == 5.0
    d = the_deal(m, "1")
    assert d["outcome"] == "won" and d["reopen_count"] == 1 and d["regression_count"] == 1
    assert d["closed_at"] == T("2026-02-04 12:00")
    assert d["cycle_days"] == 30.5
    # counted once, in the month of its last close
    (o,) = m["mart_deal_outcomes_monthly"]
    assert (o["close_month"], o["won_count"], o["lost_count"], o["win_rate"]) == (date(2026, 2, 1), 1, 0, 1.0)
    # re-entering negotiation adds no cohort member
    step4 = [r for r in m["mart_stage_conversion_monthly"] if r["funnel_step_order"] == 4]
    assert [(r["cohort_month"], r["entered_count"], r["advanced_count"]) for r in step4] == [(date(2026, 1, 1), 1, 1)]


def test_repeated_same_stage_entries_collapse():
    m = run(
        [
            deal(
                "1",
                [
                    ("appointmentscheduled", "2026-03-01 00:00"),
                    ("appointmentscheduled", "2026-03-02 00:00"),
                    ("presentationscheduled", "2026-03-04 00:00"),
                    ("presentationscheduled", "2026-03-05 00:00"),
                ],
            )
        ]
    )
    vs = visits(m, "1")
    assert [(v["stage_id"], v["entered_at"], v["exited_at"]) for v in vs] == [
        ("appointmentscheduled", T("2026-03-01 00:00"), T("2026-03-04 00:00")),
        ("presentationscheduled", T("2026-03-04 00:00"), None),
    ]
    assert vs[0]["dwell_days"] == 3.0


def test_lost_visit():
    m = run([deal("1", [("appointmentscheduled", "2026-02-01 00:00"), ("closedlost", "2026-02-11 06:00")])])
    lost = visits(m, "1")[1]
    assert (
        lost["funnel_step"],
        lost["funnel_step_order"],
        lost["is_regression"],
        lost["is_skip"],
        lost["is_current"],
        lost["exited_at"],
    ) == ("lost", None, False, False, True, None)
    assert lost["dwell_days"] == 48.75  # 2026-02-11 06:00 -> 2026-04-01 00:00
    d = the_deal(m, "1")
    assert (d["outcome"], d["closed_at"], d["cycle_days"], d["max_funnel_step_order"]) == (
        "lost",
        T("2026-02-11 06:00"),
        10.25,
        2,
    )
    assert d["expected_close_date"] is None
    (o,) = m["mart_deal_outcomes_monthly"]
    assert o == {
        "close_month": date(2026, 2, 1),
        "source": "hubspot",
        "won_count": 0,
        "lost_count": 1,
        "win_rate": 0.0,
        "won_amount_reporting": None,
        "avg_won_deal_value": None,
        "median_won_deal_value": None,
        "avg_cycle_days_won": None,
        "median_cycle_days_won": None,
    }


def test_won_then_lost_is_not_a_regression_nor_a_reopen():
    m = run(
        [
            deal(
                "1",
                [
                    ("appointmentscheduled", "2026-01-01 00:00"),
                    ("presentationscheduled", "2026-01-02 00:00"),
                    ("contractsent", "2026-01-03 00:00"),
                    ("closedwon", "2026-01-04 00:00"),
                    ("closedlost", "2026-01-06 00:00"),
                ],
            )
        ]
    )
    assert flags(visits(m, "1"))[-1] == ("lost", False, False)
    d = the_deal(m, "1")
    assert (d["outcome"], d["closed_at"], d["reopen_count"], d["max_funnel_step_order"]) == (
        "lost",
        T("2026-01-06 00:00"),
        0,
        5,
    )


def test_reopen_after_lost_compares_with_the_previous_visit_with_an_order():
    # "more than one above the previous visit with a step order": the lost visit is passed over
    m = run(
        [
            deal(
                "1",
                [
                    ("appointmentscheduled", "2026-01-01 00:00"),
                    ("closedlost", "2026-01-05 00:00"),
                    ("contractsent", "2026-01-09 00:00"),
                ],
            )
        ]
    )
    assert flags(visits(m, "1")) == [
        ("qualification", False, False),
        ("lost", False, False),
        ("negotiation", False, True),
    ]
    d = the_deal(m, "1")
    assert (d["outcome"], d["closed_at"], d["reopen_count"]) == ("open", None, 1)


def test_open_deal_dwell_is_measured_against_as_of():
    m = run(
        [
            deal(
                "1",
                [("appointmentscheduled", "2026-03-10 12:00")],
                amount="1000",
                currency="EUR",
                close_date=T("2026-04-30 15:00"),
            )
        ]
    )
    (v,) = visits(m, "1")
    assert (v["is_current"], v["exited_at"], v["dwell_days"]) == (True, None, 21.5)
    d = the_deal(m, "1")
    assert (d["outcome"], d["closed_at"], d["cycle_days"], d["expected_close_date"]) == (
        "open",
        None,
        None,
        date(2026, 4, 30),
    )
    assert d["amount_reporting"] == pytest.approx(1300.0)  # EUR rate of 2026-02-15 on as_of_date
    assert m["mart_deal_outcomes_monthly"] == []


# ---------------------------------------------------------------- as_of and exclusions


def test_history_at_or_after_as_of_is_ignored():
    m = run(
        [
            deal(
                "1",
                [
                    ("appointmentscheduled", "2026-03-20 00:00"),
                    ("presentationscheduled", "2026-03-31 23:59:59.999"),
                    ("contractsent", "2026-04-01 00:00"),
                ],
            )
        ]
    )
    vs = visits(m, "1")
    assert [v["stage_id"] for v in vs] == ["appointmentscheduled", "presentationscheduled"]
    assert vs[1]["is_current"] and vs[1]["dwell_days"] == pytest.approx(0.001 / 86400)
    d = the_deal(m, "1")
    assert (d["current_stage_id"], d["max_funnel_step_order"]) == ("presentationscheduled", 3)


def test_deal_and_lead_created_at_as_of_are_excluded():
    m = run(
        [
            deal("late", [("appointmentscheduled", "2026-04-01 00:00")]),
            deal("ok", [("appointmentscheduled", "2026-03-31 23:59")]),
        ],
        [contact("1", "2026-04-01 00:00"), contact("2", "2026-03-31 23:59")],
    )
    assert [d["source_deal_id"] for d in m["fct_deals"]] == ["ok"]
    assert {v["source_deal_id"] for v in m["fct_deal_stage_history"]} == {"ok"}
    assert [(r["lead_date"], r["new_leads"]) for r in m["mart_lead_volume_daily"]] == [(date(2026, 3, 31), 1)]


def test_archived_and_merged_deals_are_excluded():
    m = run(
        [
            deal("1", [("appointmentscheduled", "2026-03-01 00:00"), ("closedwon", "2026-03-02 00:00")], archived=True),
            deal(
                "2", [("appointmentscheduled", "2026-03-01 00:00"), ("closedwon", "2026-03-02 00:00")], merged_into="3"
            ),
            deal("3", [("appointmentscheduled", "2026-03-01 00:00"), ("closedlost", "2026-03-02 00:00")]),
        ]
    )
    assert [d["source_deal_id"] for d in m["fct_deals"]] == ["3"]
    assert {v["source_deal_id"] for v in m["fct_deal_stage_history"]} == {"3"}
    (o,) = m["mart_deal_outcomes_monthly"]
    assert (o["won_count"], o["lost_count"]) == (0, 1)


# ---------------------------------------------------------------- money and medians


def _won(did: str, amount, created="2026-03-01 00:00", closed="2026-03-03 00:00", currency="USD"):
    return deal(did, [("appointmentscheduled", created), ("closedwon", closed)], amount=amount, currency=currency)


def test_missing_amount_is_left_out_of_amount_figures_but_counted():
    m = run(
        [
            _won("1", None),
            _won("2", "200"),
            _won("3", "0"),
            deal("4", [("appointmentscheduled", "2026-03-01 00:00"), ("closedlost", "2026-03-05 00:00")], amount="999"),
        ]
    )
    assert the_deal(m, "1")["amount"] is None and the_deal(m, "1")["amount_reporting"] is None
    (o,) = m["mart_deal_outcomes_monthly"]
    assert (o["won_count"], o["lost_count"], o["win_rate"]) == (3, 1, 0.75)
    assert (o["won_amount_reporting"], o["avg_won_deal_value"], o["median_won_deal_value"]) == (
        200.0,
        100.0,
        100.0,
    )  # zero included, the missing one not
    assert (o["avg_cycle_days_won"], o["median_cycle_days_won"]) == (2.0, 2.0)


def test_won_amount_is_null_when_no_won_deal_has_an_amount():
    (o,) = run([_won("1", None)])["mart_deal_outcomes_monthly"]
    assert (
        o["won_count"],
        o["won_amount_reporting"],
        o["avg_won_deal_value"],
        o["median_won_deal_value"],
        o["avg_cycle_days_won"],
    ) == (1, None, None, None, 2.0)


def test_currency_uses_the_latest_rate_on_or_before_the_day():
    m = run(
        [
            _won("1", "1000", "2026-02-10 00:00", "2026-02-14 23:59:59", "EUR"),
            _won("2", "1000", "2026-02-10 00:00", "2026-02-15 00:00", "EUR"),
            _won("3", "1000", "2026-01-10 00:00", "2026-01-31 23:00", "EUR"),
            _won("4", "500", "2026-01-10 00:00", "2026-01-31 23:00", "USD"),
        ]
    )
    got = {d["source_deal_id"]: d["amount_reporting"] for d in m["fct_deals"]}
    assert got == pytest.approx({"1": 1200.0, "2": 1300.0, "3": 1100.0, "4": 500.0})
    assert the_deal(m, "1")["amount"] == 1000.0 and the_deal(m, "1")["currency_code"] == "EUR"
    feb = [o for o in m["mart_deal_outcomes_monthly"] if o["close_month"] == date(2026, 2, 1)]
    assert feb[0]["won_amount_reporting"] == pytest.approx(2500.0)


def test_a_missing_rate_is_an_error():
    with pytest.raises(ReferenceError):
        run([_won("1", "1000", "2025-12-01 00:00", "2025-12-31 00:00", "EUR")])
    with pytest.raises(ReferenceError):
        run([_won("2", "1000", currency="GBP")])


def test_median_of_an_even_count_is_the_mean_of_the_two_middle_values():
    m = run(
        [
            _won("1", "10", "2026-03-01 00:00", "2026-03-02 00:00"),
            _won("2", "20", "2026-03-01 00:00", "2026-03-03 00:00"),
            _won("3", "40", "2026-03-01 00:00", "2026-03-04 00:00"),
            _won("4", "100", "2026-03-01 00:00", "2026-03-11 00:00"),
        ]
    )
    (o,) = m["mart_deal_outcomes_monthly"]
    assert (o["won_amount_reporting"], o["avg_won_deal_value"], o["median_won_deal_value"]) == (170.0, 42.5, 30.0)
    assert (o["avg_cycle_days_won"], o["median_cycle_days_won"]) == (4.0, 2.5)


# ---------------------------------------------------------------- ordering and contacts


def test_equal_timestamps_keep_the_api_order():
    d = deal("1", [("appointmentscheduled", "2026-03-01 00:00")])
    # HubSpot lists newest first; seq counts from the oldest: contractsent is the later entry
    history = [
        {"source": "hubspot", "source_deal_id": "1", "seq": k, "stage_id": s, "changed_at": T(t)}
        for k, s, t in (
            (2, "contractsent", "2026-03-02 10:00"),
            (1, "presentationscheduled", "2026-03-02 10:00"),
            (0, "appointmentscheduled", "2026-03-01 00:00"),
        )
    ]
    m = run([d], history=history)
    vs = visits(m, "1")
    assert [(v["stage_id"], v["entered_at"], v["exited_at"]) for v in vs] == [
        ("appointmentscheduled", T("2026-03-01 00:00"), T("2026-03-02 10:00")),
        ("presentationscheduled", T("2026-03-02 10:00"), T("2026-03-02 10:00")),
        ("contractsent", T("2026-03-02 10:00"), None),
    ]
    assert vs[1]["dwell_days"] == 0.0
    assert the_deal(m, "1")["current_stage_id"] == "contractsent"


def test_first_visit_starts_at_created_at_in_the_oldest_entrys_stage():
    m = run(
        [
            deal(
                "1",
                [("presentationscheduled", "2026-03-01 08:00"), ("contractsent", "2026-03-03 00:00")],
                created="2026-03-01 00:00",
            )
        ]
    )
    first = visits(m, "1")[0]
    assert (first["stage_id"], first["entered_at"], first["dwell_days"]) == (
        "presentationscheduled",
        T("2026-03-01 00:00"),
        2.0,
    )
    assert first["is_skip"] is False  # first visit: never a skip
    # reaching qualification (2) counts at that first entry too
    step2 = [
        r
        for r in run([deal("1", [("presentationscheduled", "2026-03-01 00:00")])])["mart_stage_conversion_monthly"]
        if r["funnel_step_order"] == 2
    ]
    assert [(r["cohort_month"], r["entered_count"], r["advanced_count"]) for r in step2] == [(date(2026, 3, 1), 1, 1)]


def test_history_before_created_at_is_an_error():
    with pytest.raises(ReferenceError):
        run([deal("1", [("appointmentscheduled", "2026-02-28 23:59")], created="2026-03-01 00:00")])


def test_unmapped_stage_is_an_error():
    with pytest.raises(ReferenceError):
        run([deal("1", [("somenewstage", "2026-03-01 00:00")])])


def test_primary_contact_ties_compare_numeric_ids_as_numbers():
    m = run(
        [
            deal("1", [("appointmentscheduled", "2026-03-01 00:00")]),
            deal("2", [("appointmentscheduled", "2026-03-01 00:00")]),
        ],
        [
            contact("10", "2026-01-01 00:00"),
            contact("9", "2026-01-01 00:00"),
            contact("100", "2026-01-02 00:00"),
            contact("5", "2025-12-01 00:00", archived=True),
        ],
        [("1", "10"), ("1", "9"), ("1", "100"), ("1", "5"), ("2", "5")],
    )
    assert the_deal(m, "1")["primary_contact_id"] == "9"
    assert the_deal(m, "2")["primary_contact_id"] is None


def test_lead_volume_channels():
    m = run(
        contacts=[
            contact("1", "2026-03-05 08:00", "PAID_SEARCH"),
            contact("2", "2026-03-05 23:59", "paid_search"),
            contact("3", "2026-03-05 09:00", None),
            contact("4", "2026-03-05 10:00", ""),
            contact("5", "2026-03-06 00:00", "ORGANIC_SEARCH"),
            contact("6", "2026-03-06 00:00", archived=True),
            contact("8", "2026-03-06 00:00", merged_into="5"),
        ]
    )
    assert [(r["lead_date"], r["source"], r["channel"], r["new_leads"]) for r in m["mart_lead_volume_daily"]] == [
        (date(2026, 3, 5), "hubspot", "paid_search", 2),
        (date(2026, 3, 5), "hubspot", "unknown", 2),
        (date(2026, 3, 6), "hubspot", "organic_search", 1),
    ]


def test_step_one_advanced_means_associated_with_a_live_deal_created_before_as_of():
    deals = [
        deal("live", [("appointmentscheduled", "2026-03-20 00:00")]),
        deal("arch", [("appointmentscheduled", "2026-03-20 00:00")], archived=True),
        deal("late", [("appointmentscheduled", "2026-04-02 00:00")]),
    ]
    contacts = [
        contact("1", "2026-03-01 00:00"),
        contact("2", "2026-03-02 00:00"),
        contact("3", "2026-03-03 00:00"),
        contact("4", "2026-03-04 00:00"),
        contact("5", "2026-02-04 00:00"),
    ]
    links = [("live", "1"), ("arch", "2"), ("late", "3"), ("live", "5")]
    rows = [r for r in run(deals, contacts, links)["mart_stage_conversion_monthly"] if r["funnel_step_order"] == 1]
    assert [
        (r["cohort_month"], r["funnel_step"], r["entered_count"], r["advanced_count"], r["conversion_rate"])
        for r in rows
    ] == [(date(2026, 2, 1), "lead", 1, 1, 1.0), (date(2026, 3, 1), "lead", 4, 1, 0.25)]
