"""The exposure-based checks on a hand-simulated funnel: deals enter qualification every day and
move through the steps with lognormal dwell times and fixed advance probabilities (written here
from the definitions, independent of the checks' code). Each test injects one obvious anomaly
into the visit rows or lead counts and expects the check named after it to warn; clean seeds are
quiet; a tiny account says "not enough data"."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

import pytest

from evaluation.fast.inject import EFFECTS, apply
from evaluation.fast.relations import connection
from warehouse.anomaly.checks import run_all, run_check

AS_OF = date(2026, 10, 31)
END = datetime(2026, 11, 1)
STEPS = (("qualification", 5.0, 0.45), ("presentation", 10.0, 0.55), ("negotiation", 8.0, 0.6))
CHECKS = ["lead_volume_anomaly", "stage_conversion_drop", "stage_dwell_spike", "stuck_deals", "transition_burst"]
CHANNELS = {"paid_search": 12.0, "organic_search": 25.0, "referrals": 6.0}


def simulate(seed: int, deals_per_day: float = 5.0, days: int = 365) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    visits: list[dict] = []
    start = END - timedelta(days=days)
    n = 0
    for d in range(days):
        day = start + timedelta(days=d)
        for _ in range(_poisson(rng, deals_per_day)):
            n += 1
            did, t, k = f"hubspot:{n}", day + timedelta(hours=rng.uniform(8, 18)), 1
            for step, median, p_adv in STEPS:
                dwell = median * math.exp(rng.gauss(0, 0.8))
                exit_ = t + timedelta(days=dwell)
                row = _visit(did, step, k, t, exit_ if exit_ < END else None)
                visits.append(row)
                if exit_ >= END:
                    break
                t, k = exit_, k + 1
                if rng.random() > p_adv:
                    visits.append(_visit(did, "lost", k, t, None))
                    break
            else:
                visits.append(_visit(did, "won", k, t, None))
    leads = [
        {"lead_date": (END - timedelta(days=d + 1)).date(), "source": "hubspot", "channel": c, "new_leads": x}
        for d in range(days)
        for c, per_week in CHANNELS.items()
        if (x := _poisson(rng, per_week / 7))
    ]
    return visits, leads


def _poisson(rng: random.Random, mu: float) -> int:
    limit, k, p = math.exp(-mu), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _visit(did: str, step: str, k: int, entered: datetime, exited: datetime | None) -> dict:
    order = {"qualification": 2, "presentation": 3, "negotiation": 4, "won": 5}.get(step)
    return {
        "deal_id": did,
        "source": "hubspot",
        "source_deal_id": did[8:],
        "pipeline_id": "default",
        "stage_id": step,
        "funnel_step": step,
        "funnel_step_order": order,
        "visit_number": k,
        "entered_at": entered,
        "exited_at": exited,
        "is_current": exited is None,
        "dwell_days": ((exited or END) - entered).total_seconds() / 86400,
        "is_regression": False,
        "is_skip": False,
    }


def warned(visits, leads) -> set[str]:
    return {o.name for o in run_all(connection(visits, leads), AS_OF, CHECKS) if not o.passed}


@pytest.fixture(scope="module")
def account():
    return simulate(1)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clean_accounts_are_quiet(seed):
    assert warned(*simulate(seed)) == set()


@pytest.mark.parametrize(
    "effect",
    [e for e in EFFECTS if e.label.endswith(("x1/3, 5 weeks", "x4, 4 weeks")) or "50" in e.label or "bulk" in e.label],
)
def test_each_strong_anomaly_is_named_by_its_check(account, effect):
    visits, leads = apply(effect, [dict(v) for v in account[0]], [dict(r) for r in account[1]], AS_OF, random.Random(5))
    assert set(effect.expected_checks) <= warned(visits, leads)


def test_lead_collapse_of_a_12_a_week_channel_is_an_exact_tail_event(account):
    visits, leads = account
    first = AS_OF - timedelta(days=6)
    kept = [r for r in leads if not (r["channel"] == "paid_search" and r["lead_date"] >= first)]
    outcome = run_check(connection(visits, kept), AS_OF, "lead_volume_anomaly")
    assert not outcome.passed and outcome.metadata["flagged_segments"] == ["paid_search"]
    seg = outcome.metadata["segments"]["paid_search"]
    assert seg["value"] == 0 and seg["p"] < 1e-4  # P(0 | ~12) ≈ 6e-6 for a Poisson
    assert {"baseline", "p_adjusted", "window_start", "window_end", "n"} <= set(seg)


def test_stuck_deals_have_no_upper_bound_and_are_listed_oldest_first(account):
    visits = [dict(v) for v in account[0]]
    for i in range(30):  # open in negotiation for 200-300 days: far past any band
        visits.append(_visit(f"hubspot:old{i}", "negotiation", 1, END - timedelta(days=200 + 100 * i / 30), None))
    outcome = run_check(connection(visits, account[1]), AS_OF, "stuck_deals")
    seg = outcome.metadata["segments"]["negotiation"]
    assert seg["open_stuck_now"] >= 30 and seg["oldest_stuck_days"] > 290
    assert seg["sample_ids"][0] == "hubspot:old29" and len(seg["sample_ids"]) == 20  # the oldest


def test_conversion_is_measured_on_exposure_while_it_happens(account):
    effect = next(e for e in EFFECTS if e.label == "conversion x1/3, 5 weeks")
    visits, _ = apply(effect, [dict(v) for v in account[0]], account[1], AS_OF, random.Random(2))
    outcome = run_check(connection(visits, account[1]), AS_OF, "stage_conversion_drop")
    seg = outcome.metadata["segments"]["qualification:advances"]
    assert seg["flagged"] and seg["value"] < 0.6 * seg["baseline"]
    assert seg["exposure_days"] > 0 and seg["window_start"] == (AS_OF - timedelta(days=34)).isoformat()


def test_a_tiny_account_says_not_enough_data():
    visits, _ = simulate(4, deals_per_day=0.15)
    leads = [
        {"lead_date": AS_OF - timedelta(days=d), "source": "hubspot", "channel": "referrals", "new_leads": 1}
        for d in range(0, 120, 9)
    ]
    outcomes = {o.name: o for o in run_all(connection(visits, leads), AS_OF, CHECKS)}
    assert all(o.passed for o in outcomes.values())
    assert "referrals" in outcomes["lead_volume_anomaly"].metadata["not_enough_data"]
    assert "Not enough data to test" in outcomes["stage_conversion_drop"].description
