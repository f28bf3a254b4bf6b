"""The stuck-deals injections of the eval (evaluation/fast/inject.py): they freeze EXISTING deals
(earlier visits, owner and pipeline kept) so they sit open in negotiation past 5 × its usual
dwell at E, one owner's when that owner has enough (else a team's), or random ones (the leak)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

import pytest

from evaluation.fast.inject import stuck_deals, stuck_deals_leak, usual_dwell_days

END = datetime(2026, 11, 1)
OWNERS = ("o1", "o2", "o3")


def _account(per_day: int, days: int = 400) -> tuple[list[dict], list[dict]]:
    """Deals entering qualification ``per_day`` a day, 2 days later negotiation, 6-8 days later won."""
    rng = random.Random(7)
    visits, deals = [], []
    for d in range(days):
        for j in range(per_day):
            did = f"hubspot:{d}-{j}"
            q = END - timedelta(days=days - d, hours=j)
            n = q + timedelta(days=2)
            w = n + timedelta(days=rng.uniform(6, 8))
            deals.append({"deal_id": did, "owner_id": OWNERS[(d + j) % 3], "pipeline_id": "default"})
            row = {"pipeline_id": "default", "is_regression": False, "is_skip": False, "source": "hubspot"}
            visits.append(
                {
                    **row,
                    "deal_id": did,
                    "funnel_step": "qualification",
                    "visit_number": 1,
                    "entered_at": q,
                    "exited_at": n,
                    "is_current": False,
                }
            )
            if w < END:
                visits.append(
                    {
                        **row,
                        "deal_id": did,
                        "funnel_step": "negotiation",
                        "visit_number": 2,
                        "entered_at": n,
                        "exited_at": w,
                        "dwell_days": (w - n).total_seconds() / 86400,
                        "is_current": False,
                    }
                )
                visits.append(
                    {
                        **row,
                        "deal_id": did,
                        "funnel_step": "won",
                        "visit_number": 3,
                        "entered_at": w,
                        "exited_at": None,
                        "is_current": True,
                    }
                )
    return visits, deals


def _open_negotiation(visits: list[dict]) -> dict[str, dict]:
    return {v["deal_id"]: v for v in visits if v["funnel_step"] == "negotiation" and v["exited_at"] is None}


@pytest.mark.parametrize(("per_day", "count", "owners"), [(6, 20, 1), (6, 50, 1), (2, 50, 2)])
def test_a_frozen_batch_is_existing_deals_of_one_owner_stuck_past_five_times_the_usual_dwell(per_day, count, owners):
    visits, deals = _account(per_day)
    m = usual_dwell_days(visits, END)
    before = {v["deal_id"] for v in visits}
    fct = list(deals)
    out, ids = stuck_deals([dict(v) for v in visits], END, count, random.Random(3), fct)
    assert len(ids) == len(set(ids)) == count
    assert set(ids) <= before and fct == deals  # no new deal: the account's own
    stuck = _open_negotiation(out)
    assert set(ids) <= set(stuck)
    for d in ids:
        assert (END - stuck[d]["entered_at"]).total_seconds() / 86400 > 5 * m
        assert [v["funnel_step"] for v in out if v["deal_id"] == d] == ["qualification", "negotiation"]  # won dropped
    owner = {d["deal_id"]: d["owner_id"] for d in deals}
    assert len(Counter(owner[d] for d in ids)) == owners  # one rep's book, or a team's
    assert len(out) == len(visits) - count  # only the frozen deals' later visits are gone
    untouched = [v for v in visits if v["deal_id"] not in set(ids)]
    assert all(v in out for v in untouched[:500])


def test_a_small_account_freezes_all_its_entries_and_imports_the_rest_under_one_owner():
    visits, deals = _account(1)  # ~45 negotiation entries in the 45 days: fewer than the batch
    m = usual_dwell_days(visits, END)
    fct = list(deals)
    out, ids = stuck_deals([dict(v) for v in visits], END, 50, random.Random(3), fct)
    before = {v["deal_id"] for v in visits}
    own, new = [d for d in ids if d in before], [d for d in ids if d not in before]
    assert len(ids) == 50 and 40 <= len(own) < 50 and len(new) == 50 - len(own)
    added = fct[len(deals) :]
    assert [d["deal_id"] for d in added] == new and len({d["owner_id"] for d in added}) == 1
    stuck = _open_negotiation(out)
    for d in new:  # imported into the step in the same 45 days, never moved
        assert [v["funnel_step"] for v in out if v["deal_id"] == d] == ["negotiation"]
        assert 5.5 * m <= (END - stuck[d]["entered_at"]).total_seconds() / 86400 <= 5.5 * m + 10 + 45


def test_the_leak_freezes_random_existing_deals_over_the_entry_window():
    visits, deals = _account(6)
    out, ids = stuck_deals_leak([dict(v) for v in visits], END, 50, random.Random(3), list(deals))
    assert len(set(ids)) == 50 and set(ids) <= {v["deal_id"] for v in visits}
    stuck = _open_negotiation(out)
    days = sorted((END - stuck[d]["entered_at"]).days for d in ids)
    assert days[-1] - days[0] > 30  # spread over the 45 days, not one batch
    owner = {d["deal_id"]: d["owner_id"] for d in deals}
    assert len(Counter(owner[d] for d in ids)) == 3
