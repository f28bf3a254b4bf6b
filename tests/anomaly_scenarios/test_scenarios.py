"""Scenario injection: each scenario changes exactly what it says, inside its window, and the
sandbox stays its own consistent ground truth."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from emulators import build_sandbox
from emulators.truth.store import STAGE_INDEX, date_to_ms, iso_to_ms
from evaluation.scenarios import (
    ANOMALY_SCENARIOS,
    SCENARIOS,
    STEP_ORDER,
    read_injection,
)
from tests.anomaly_scenarios.conftest import small_config

DAY = 86_400_000


class Crm:
    """A sandbox file read into plain dicts."""

    def __init__(self, path: Path) -> None:
        conn = sqlite3.connect(path)
        conn.row_factory = sqlite3.Row
        try:
            self.deals = {r["id"]: dict(r) for r in conn.execute("SELECT * FROM deals")}
            self.contacts = {r["id"]: dict(r) for r in conn.execute("SELECT * FROM contacts")}
            self.hist: dict[tuple[int, str], list[tuple]] = defaultdict(list)
            self.by_deal: dict[int, dict[str, list[tuple]]] = defaultdict(dict)
            for r in conn.execute("SELECT * FROM deal_history ORDER BY deal_id, property, seq"):
                self.hist[(r["deal_id"], r["property"])].append(tuple(r))
            for (d, p), versions in self.hist.items():
                self.by_deal[d][p] = versions
            self.assoc = {tuple(r) for r in conn.execute("SELECT deal_id, contact_id FROM deal_contacts")}
            self.end_date = date.fromisoformat(
                conn.execute("SELECT value FROM meta WHERE key = 'end_date'").fetchone()[0]
            )
        finally:
            conn.close()
        self.end_ms = date_to_ms(self.end_date + timedelta(days=1))

    def stages(self, did: int) -> list[tuple[str, int]]:
        return [(h[3], h[4]) for h in self.hist[(did, "dealstage")]]


def _day_ms(end: date, days_before: int) -> int:
    return date_to_ms(end - timedelta(days=days_before))


@pytest.fixture(scope="module")
def crm(scenario_dbs: dict) -> dict:
    return {k: Crm(v) for k, v in scenario_dbs.items()}


def _changed_deals(a: Crm, b: Crm) -> set[int]:
    ids = set(a.deals) | set(b.deals)
    return {d for d in ids if a.deals.get(d) != b.deals.get(d) or a.by_deal.get(d) != b.by_deal.get(d)}


# ---------------------------------------------------------------- consistency, every scenario


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_ground_truth_stays_consistent(crm: dict, injs: dict, scenario: str) -> None:
    c: Crm = crm[scenario]
    inj = injs[scenario]
    before = set(map(int, inj.details.get("before_creation", {}))) if scenario == "corrupted_timestamps" else set()
    future = set(map(int, inj.details.get("future", {}))) if scenario == "corrupted_timestamps" else set()
    for did, row in c.deals.items():
        for prop, versions in c.by_deal[did].items():
            assert [v[2] for v in versions] == list(range(len(versions))), (did, prop, "seq")
            ts = [v[4] for v in versions]
            assert ts == sorted(ts), (did, prop, "history out of time order")
        stages = c.stages(did)
        assert row["dealstage"] == stages[-1][0], did
        stage_def = STAGE_INDEX[row["dealstage"]][1]
        assert row["hs_is_closed"] == ("true" if stage_def.is_closed else "false"), did
        assert row["hs_is_closed_won"] == ("true" if stage_def.is_won else "false"), did
        close = c.hist.get((did, "closedate"))
        assert row["closedate"] == (iso_to_ms(close[-1][3]) if close else None), did
        amount = c.hist.get((did, "amount"))
        assert row["amount"] == (amount[-1][3] if amount else None), did
        if did in before:
            assert stages[0][1] < row["createdate"] and stages[1][1] == row["createdate"]
        else:
            assert stages[0][1] == row["createdate"], (did, "first entry is not at creation")
        all_ts = [v[4] for vs in c.by_deal[did].values() for v in vs]
        if did in future:
            assert max(all_ts) >= c.end_ms + 365 * DAY
            all_ts = [t for t in all_ts if t < c.end_ms]
        assert max(all_ts) < c.end_ms, (did, "history after E")
        assert max(all_ts) <= row["hs_lastmodifieddate"] < c.end_ms, (did, "lastmodified")
    for row in c.contacts.values():
        assert row["createdate"] < c.end_ms
    assert {d for d, _ in c.assoc} <= set(c.deals)
    assert {k for _, k in c.assoc} <= set(c.contacts)


@pytest.fixture(scope="module")
def injs(scenario_dbs: dict) -> dict:
    return {name: read_injection(scenario_dbs[name]) for name in SCENARIOS}


def test_injection_records(scenario_dbs: dict) -> None:
    assert read_injection(scenario_dbs[None]) is None
    for name, spec in SCENARIOS.items():
        inj = read_injection(scenario_dbs[name])
        assert inj.scenario == name and inj.seed == small_config(name).seed
        assert tuple(inj.expected_checks) == spec.expected_checks
        if name in ANOMALY_SCENARIOS:
            assert inj.window and inj.expected_checks and (inj.deal_ids or inj.contact_ids)


def test_clean_is_the_plain_sandbox(crm: dict) -> None:
    plain, clean = crm[None], crm["clean"]
    assert plain.deals == clean.deals and plain.contacts == clean.contacts
    assert plain.hist == clean.hist and plain.assoc == clean.assoc


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    cfg = small_config("lead_volume_collapse")
    a = build_sandbox(cfg, tmp_path / "a.sqlite")
    b = build_sandbox(cfg, tmp_path / "b.sqlite")
    assert a.read_bytes() == b.read_bytes()


def test_every_sandbox_stage_is_mapped_consistently_with_its_metadata() -> None:
    # STEP_ORDER is read from the dbt seed; the sandbox's own stage metadata must agree with it:
    # every stage mapped, won stages at order 5, lost stages without an order, open ones below 5.
    assert set(STAGE_INDEX) <= set(STEP_ORDER)
    for stage_id, (_pipeline, stage) in STAGE_INDEX.items():
        order = STEP_ORDER[stage_id]
        if stage.is_won:
            assert order == 5, stage_id
        elif stage.is_closed:
            assert order is None, stage_id
        else:
            assert order is not None and 2 <= order <= 4, stage_id


# ---------------------------------------------------------------- each scenario's change


def test_lead_volume_collapse(crm: dict, injs: dict) -> None:
    plain, c, inj = crm[None], crm["lead_volume_collapse"], injs["lead_volume_collapse"]
    removed = set(plain.contacts) - set(c.contacts)
    assert removed == set(map(int, inj.contact_ids)) and removed
    assert set(c.contacts) <= set(plain.contacts)
    assert all(plain.contacts[k] == c.contacts[k] for k in c.contacts)
    lo = _day_ms(c.end_date, 6)
    in_window = [
        k
        for k, r in plain.contacts.items()
        if r["hs_analytics_source"] == "PAID_SEARCH" and not r["archived"] and lo <= r["createdate"] < c.end_ms
    ]
    assert removed <= set(in_window)
    assert len(in_window) - len(removed) == round(0.1 * len(in_window))
    assert plain.deals == c.deals and plain.hist == c.hist
    assert plain.assoc - c.assoc == {(d, k) for d, k in plain.assoc if k in removed}


def test_corrupted_timestamps(crm: dict, injs: dict) -> None:
    plain, c, inj = crm[None], crm["corrupted_timestamps"], injs["corrupted_timestamps"]
    before = set(map(int, inj.details["before_creation"]))
    future = set(map(int, inj.details["future"]))
    assert len(before) == 15 and len(future) == 10 and not before & future
    assert _changed_deals(plain, c) == before | future
    for did in before:
        assert c.stages(did)[1:] == plain.stages(did)
        assert c.stages(did)[0][1] < c.deals[did]["createdate"]
    for did in future:
        assert c.stages(did)[:-1] == plain.stages(did)
        assert c.stages(did)[-1][1] > c.end_ms + 365 * DAY
        assert c.deals[did] == plain.deals[did]
