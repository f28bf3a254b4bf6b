"""``make eval-checks`` (evaluation/fast/power.py): which failing checks count as a detection, the
false-alarm tables, the structural scenario judged by the quarantine rules, and one small seed
run through every scenario."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from evaluation.fast.inject import ALL_EFFECTS, EXPECTED_CHECKS, corrupted_timestamps, inject, quarantine_of
from evaluation.fast.power import FAST_CHECKS, run_seed
from evaluation.fast.relations import Account
from evaluation.fast.report import SeedResult, figures, render
from tests.reference.quarantine import AFTER_LOAD, BEFORE_CREATION

AS_OF = date(2026, 10, 31)


def test_every_issue_scenario_is_scored_by_the_check_named_after_it() -> None:
    assert EXPECTED_CHECKS == {
        "conversion_drop": ("stage_conversion_drop",),
        "lead_volume_collapse": ("lead_volume_anomaly",),
        "dwell_spike": ("stage_dwell_spike",),
        "stuck_deals": ("stuck_deals",),
        "bulk_edit_flap": ("transition_burst",),
        "corrupted_timestamps": ("quarantined_records",),
        "stuck_deals_leak": ("stuck_deals",),
    }
    sizes = {(e.scenario, e.size) for e in ALL_EFFECTS}
    assert {(1 / 2), (1 / 3)} == {s for c, s in sizes if c == "conversion_drop"}
    assert {0.8, 0.95} == {s for c, s in sizes if c == "lead_volume_collapse"}
    assert {2.0, 4.0} == {s for c, s in sizes if c == "dwell_spike"}
    assert {20, 50} == {s for c, s in sizes if c == "stuck_deals"}


def test_only_the_expected_check_counts_as_a_detection() -> None:
    bulk = next(e for e in ALL_EFFECTS if e.scenario == "bulk_edit_flap")
    r = SeedResult("1500", 1, fired={bulk.label: ["regression_rate_jump", "stuck_deals"]})
    assert not r.detected(bulk.label, bulk.scenario)
    r.fired[bulk.label].append("transition_burst")
    assert r.detected(bulk.label, bulk.scenario)


def test_false_alarms_are_counted_per_check_and_for_all_checks_together() -> None:
    checks = [*FAST_CHECKS, "quarantined_records", "skip_rate_jump"]
    results = [
        SeedResult("300", 1, fired={"clean": []}, checks_run=checks),
        SeedResult("300", 2, fired={"clean": ["skip_rate_jump"]}, checks_run=checks),
        SeedResult("300", 3, fired={"clean": ["skip_rate_jump", "stuck_deals"]}, checks_run=checks),
        SeedResult("1500", 1, fired={"clean": []}, checks_run=checks),
    ]
    f = figures(results, ["300", "1500"], 12.0, 2)
    assert f["false_alarms"]["skip_rate_jump"] == {"300": {"fired": 2, "seeds": 3}, "1500": {"fired": 0, "seeds": 1}}
    assert f["false_alarms"]["stuck_deals"]["300"] == {"fired": 1, "seeds": 3}
    assert f["false_alarms_any_check"]["300"] == {"fired": 2, "seeds": 3}
    assert set(f["false_alarms"]) == set(checks)
    text = render(f)
    assert "| `skip_rate_jump`" in text and "2/3 (67%)" in text and "1,500 deals/yr" in text


def _account() -> Account:
    created = datetime(2026, 3, 1)
    deals = [
        {"source": "hubspot", "source_deal_id": str(i), "created_at": created, "archived": False, "merged_into": None}
        for i in range(40)
    ]
    deals.append({**deals[0], "source_deal_id": "archived", "archived": True})
    times = {f"hubspot:{d['source_deal_id']}": [created, created + timedelta(days=3)] for d in deals}
    visits = [{"deal_id": k, "visit_number": 1} for k in times]
    return Account(visits, [], [], AS_OF, deals, times)


def test_corrupted_timestamps_are_exactly_what_the_quarantine_rules_list() -> None:
    account = _account()
    assert quarantine_of(account.crm_deals, account.entry_times, AS_OF) == []
    times, picked = corrupted_timestamps(account.crm_deals, account.entry_times, AS_OF, 25, random.Random(1))
    assert len(set(picked)) == 25 and "hubspot:archived" not in picked
    rows = quarantine_of(account.crm_deals, times, AS_OF)
    assert sorted(r["deal_id"] for r in rows) == sorted(picked)
    assert sum(r["rule"] == BEFORE_CREATION for r in rows) == 15
    assert sum(r["rule"] == AFTER_LOAD for r in rows) == 10
    effect = next(e for e in ALL_EFFECTS if e.scenario == "corrupted_timestamps")
    injected = inject(effect, account, random.Random(1))
    assert {v["deal_id"] for v in injected.visits} == {v["deal_id"] for v in account.visits} - set(picked)
    assert len(injected.quarantined) == 25


def test_one_small_seed_runs_every_scenario() -> None:
    r = run_seed("300", 1, True, None)  # ~1 s of CPU: a varied 300-deal account, no dbt
    assert r.errors == []
    assert set(r.fired) == {"clean", *(e.label for e in ALL_EFFECTS)}
    assert r.checks_run == [*FAST_CHECKS, "quarantined_records"]
    for e in ALL_EFFECTS:
        if e.scenario in ("bulk_edit_flap", "corrupted_timestamps"):
            assert r.detected(e.label, e.scenario), (e.label, r.fired[e.label])
    assert "quarantined_records" not in r.fired["clean"]
    assert r.deals > 250 and r.visits > r.deals


def test_the_report_lists_only_the_effects_run() -> None:
    stuck = [e for e in ALL_EFFECTS if e.scenario == "stuck_deals"]
    checks = [*FAST_CHECKS, "quarantined_records"]
    fired: dict[str, list[str]] = {"clean": [], stuck[0].label: [], stuck[1].label: ["stuck_deals"]}
    f = figures(
        [SeedResult("300", 1, fired=fired, checks_run=checks)], ["300"], 1.0, 1
    )  # a --scenarios stuck_deals run
    assert list(f["power"]) == [e.label for e in stuck]
    assert f["power"][stuck[1].label]["300"] == {"detected": 1, "seeds": 1}
    assert "50 deals stuck" in render(f) and "bulk edit" not in render(f)
