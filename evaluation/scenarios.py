"""Anomaly scenarios: known faults injected at known dates into a sandbox CRM.

A scenario post-processes the rows the generator wrote, inside the same SQLite transaction, before
the indexes are built (hook in :func:`emulators.truth.generator._write`), so a scenario
sandbox is still one self-consistent CRM and its own ground truth: every touched deal keeps its
current stage, ``closedate``, ``hs_is_closed*``, ``amount`` and ``hs_lastmodifieddate`` in line
with its history, history ``seq`` stays 0..n-1 (oldest first), the first ``dealstage`` entry stays
at ``createdate`` and nothing is dated after the end date E, except what ``corrupted_timestamps``
corrupts on purpose. What was injected (ids, dates, counts) is stored as JSON in
``meta['scenario']`` (:func:`read_injection`). Injection is deterministic per (seed, scenario).

    from emulators import SandboxConfig, build_sandbox
    from evaluation.scenarios import SCENARIOS, read_injection
    path = build_sandbox(SandboxConfig(seed=1, n_deals=20_000, n_contacts=60_000,
                                       scenario="dwell_spike"), Path("x.sqlite"))
    injection = read_injection(path)     # what, when, which ids, which checks should fire

Calendar (E = the sandbox end date; the checks evaluate as of E):

==========================  ===================================================================
``conversion_drop``         deals entering ``qualification`` on E-41..E-28 advance to
                            ``presentation`` at half the normal rate: half of those that advanced
                            are lost instead, at the moment they would have advanced
``lead_volume_collapse``    channel PAID_SEARCH keeps 10% of its live leads created on E-6..E
                            (the others never arrived: removed with their associations)
``dwell_spike``             every ``presentation`` visit that exits on E-13..E lasts 4x longer;
                            the deal's later history shifts by the extra time and whatever would
                            fall after E is dropped (the deal is still in presentation at E)
``stuck_deals``             60 extra open deals sitting in ``negotiation`` since E-120..E-60
``bulk_edit_flap``          on E-2, 80 open deals flap between their stage and the previous
                            step's stage 4 times within one hour (regressions + a burst)
``corrupted_timestamps``    15 deals get a ``dealstage`` entry dated before their creation, 10
                            deals one dated years after E (structural: blocking dbt tests, ERROR)
``clean``                   nothing injected
==========================  ===================================================================

Sizes and power are documented in :mod:`evaluation.eval_checks`.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import random
import sqlite3
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from emulators.truth import store
from emulators.truth.store import DEFAULT_PIPELINE, STAGE_INDEX

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
META_KEY = "scenario"

# Canonical funnel steps of the sandbox's stages (mirror of dbt seed funnel_stage_mapping; a test
# keeps them in line). None = lost.
STEP_ORDER: dict[str, int | None] = {
    "appointmentscheduled": 2,
    "qualifiedtobuy": 2,
    "presentationscheduled": 3,
    "decisionmakerboughtin": 4,
    "contractsent": 4,
    "closedwon": 5,
    "closedlost": None,
    "3206386942": 2,
    "3206386937": 2,
    "3206386938": 3,
    "3206386939": 4,
    "3206386940": 5,
    "3206386941": None,
}
PRESENTATION_STAGES = frozenset(s for s, o in STEP_ORDER.items() if o == 3)
NEGOTIATION_STAGES = ("decisionmakerboughtin", "contractsent")


@dataclass(frozen=True)
class ScenarioSpec:
    """A scenario: what it injects and which checks must fire to call it detected.

    ``expected_checks`` are check names, each an ``fnmatch`` pattern or ``a|b`` alternatives (the
    future-timestamp dbt test is matched by name patterns); ``require`` says whether ``all`` or
    ``any`` of them must fire;
    ``severity`` (if set) is the severity a matching check must fire with.
    """

    name: str
    anomaly: str
    expected_checks: tuple[str, ...] = ()
    require: str = "all"
    severity: str | None = None
    expected_label: str | None = None  # how reports name the expected checks (default: the patterns)

    def expected_text(self) -> str:
        if self.expected_label:
            return self.expected_label
        return (" and " if self.require == "all" else " or ").join(self.expected_checks)


SCENARIOS: dict[str, ScenarioSpec] = {
    s.name: s
    for s in (
        ScenarioSpec(
            "conversion_drop",
            "qualification->presentation rate halved for deals entering E-41..E-28",
            ("stage_conversion_drop",),
        ),
        ScenarioSpec("lead_volume_collapse", "paid_search leads at 10% on E-6..E", ("lead_volume_anomaly",)),
        ScenarioSpec("dwell_spike", "presentation visits exiting E-13..E last 4x longer", ("stage_dwell_spike",)),
        ScenarioSpec("stuck_deals", "60 open deals stuck in negotiation since E-120..E-60", ("stuck_deals",)),
        ScenarioSpec(
            "bulk_edit_flap",
            "80 deals flap between two stages 4x within an hour on E-2",
            ("transition_burst", "regression_rate_jump"),
            require="any",
        ),
        ScenarioSpec(
            "corrupted_timestamps",
            "15 deals with history before creation, 10 with history years after E",
            (
                "assert_no_stage_history_before_deal_creation",
                "assert_no_stage_history_later_than_its_load|assert_*future*",
            ),
            severity="ERROR",
            expected_label="dbt assert_no_stage_history_before_deal_creation and "
            "assert_no_stage_history_later_than_its_load",
        ),
        ScenarioSpec("clean", "none"),
    )
}
ANOMALY_SCENARIOS: tuple[str, ...] = tuple(n for n in SCENARIOS if n != "clean")


@dataclass
class Injection:
    """What a scenario injected; stored in ``meta['scenario']`` of the sandbox file."""

    scenario: str
    seed: int
    end_date: str
    anomaly: str
    expected_checks: list[str]
    require: str
    severity: str | None
    code_version: str = ""  # hash of this module: a cached sandbox from older code is rebuilt
    window: list[str] | None = None  # [first day, last day] (ISO dates) of the anomaly
    deal_ids: list[str] = field(default_factory=list)
    contact_ids: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Injection:
        return cls(**json.loads(text))


def code_version() -> str:
    """Hash of this module's source: scenario sandboxes built by other code are stale."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def read_injection(path: Path | str) -> Injection | None:
    """The injection record of a scenario sandbox (None for a plain sandbox)."""
    conn = store.connect(path, readonly=True)
    try:
        meta = store.read_meta(conn)
    finally:
        conn.close()
    return Injection.from_json(meta[META_KEY]) if META_KEY in meta else None


# ---------------------------------------------------------------- deal rewriting helpers


@dataclass
class _Deal:
    """A deal's row (dict) and its history per property: [(value, ts, source_type, source_id,
    updated_by_user_id)] oldest first."""

    row: dict[str, Any]
    hist: dict[str, list[list[Any]]]

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def stages(self) -> list[list[Any]]:
        return self.hist["dealstage"]


def _load_deal(conn: sqlite3.Connection, deal_id: int) -> _Deal:
    cur = conn.execute("SELECT * FROM deals WHERE id = ?", (deal_id,))
    cols = [c[0] for c in cur.description]
    row = dict(zip(cols, cur.fetchone(), strict=True))
    hist: dict[str, list[list[Any]]] = defaultdict(list)
    for prop, value, ts, st, sid, uid in conn.execute(
        "SELECT property, value, timestamp, source_type, source_id, updated_by_user_id "
        "FROM deal_history WHERE deal_id = ? ORDER BY property, seq",
        (deal_id,),
    ):
        hist[prop].append([value, ts, st, sid, uid])
    return _Deal(row, hist)


def _save_deal(conn: sqlite3.Connection, deal: _Deal, *, insert: bool = False) -> None:
    """Write the deal back: history renumbered (seq 0 = oldest), row fields derived from it."""
    stage = deal.stages[-1][0]
    stage_def = STAGE_INDEX[stage][1]
    deal.row["dealstage"] = stage
    deal.row["hs_is_closed"] = "true" if stage_def.is_closed else "false"
    deal.row["hs_is_closed_won"] = "true" if stage_def.is_won else "false"
    close = deal.hist.get("closedate") or []
    deal.row["closedate"] = store.iso_to_ms(close[-1][0]) if close else None
    amounts = deal.hist.get("amount") or []
    deal.row["amount"] = amounts[-1][0] if amounts else None
    did = deal.id
    if not insert:
        conn.execute("DELETE FROM deal_history WHERE deal_id = ?", (did,))
    rows = [
        (did, prop, seq, v[0], v[1], v[2], v[3], v[4])
        for prop, versions in deal.hist.items()
        for seq, v in enumerate(versions)
    ]
    conn.executemany("INSERT INTO deal_history VALUES (?,?,?,?,?,?,?,?)", rows)
    cols = list(deal.row)
    if insert:
        conn.execute(
            f"INSERT INTO deals ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})", [deal.row[c] for c in cols]
        )
    else:
        sets = ", ".join(f"{c} = ?" for c in cols if c != "id")
        conn.execute(f"UPDATE deals SET {sets} WHERE id = ?", [deal.row[c] for c in cols if c != "id"] + [did])


def _last_history_ms(deal: _Deal) -> int:
    return max(v[1] for versions in deal.hist.values() for v in versions)


def _touch(deal: _Deal, at_ms: int | None = None) -> None:
    """hs_lastmodifieddate: at least the newest history entry (and ``at_ms``)."""
    deal.row["hs_lastmodifieddate"] = max(deal.row["hs_lastmodifieddate"], _last_history_ms(deal), at_ms or 0)


def _visits(stages: list[list[Any]]) -> list[tuple[int, int]]:
    """[(first index, last index + 1)] of each visit (repeats of a stage collapse)."""
    out: list[tuple[int, int]] = []
    for k, entry in enumerate(stages):
        if k and entry[0] == stages[k - 1][0]:
            out[-1] = (out[-1][0], k + 1)
        else:
            out.append((k, k + 1))
    return out


def _live_deal_ids(conn: sqlite3.Connection, where: str = "1=1", params: tuple = ()) -> list[int]:
    return [
        r[0]
        for r in conn.execute(
            f"SELECT id FROM deals WHERE archived = 0 AND merged_into IS NULL AND {where} ORDER BY id", params
        )
    ]


# ---------------------------------------------------------------- the scenarios


def _end_ms(end_d: date) -> int:
    """Exclusive end of the sandbox period: midnight UTC after E."""
    return store.date_to_ms(end_d + timedelta(days=1))


def _conversion_drop(conn: sqlite3.Connection, rng: random.Random, inj: Injection, end_d: date) -> None:
    lo_d, hi_d = end_d - timedelta(days=41), end_d - timedelta(days=28)
    lo, hi = store.date_to_ms(lo_d), store.date_to_ms(hi_d + timedelta(days=1))
    inj.window = [lo_d.isoformat(), hi_d.isoformat()]
    entered = advanced = 0
    changed: list[str] = []
    # candidates: deals created up to the window's end (entry into qualification is at or after)
    for did in _live_deal_ids(conn, "createdate < ?", (hi,)):
        deal = _load_deal(conn, did)
        stages = deal.stages
        orders = [STEP_ORDER.get(s[0]) for s in stages]
        first_q = next((k for k, o in enumerate(orders) if o is not None and o >= 2), None)
        # the deal enters qualification proper (step 2, not a later step by a skip) in the window
        if first_q is None or orders[first_q] != 2 or not lo <= stages[first_q][1] < hi:
            continue
        entered += 1
        nxt = next((k for k in range(first_q + 1, len(stages)) if orders[k] is not None and orders[k] >= 3), None)
        if nxt is None:
            continue
        advanced += 1
        if any(orders[k] is None for k in range(first_q, nxt)):
            continue  # lost and reopened on the way: leave it advanced
        if rng.random() >= 0.5:
            continue
        # lost instead of advancing, at the same moment; everything later never happened
        t = stages[nxt][1]
        pipe = STAGE_INDEX[stages[0][0]][0]
        src = stages[nxt][2:]
        deal.hist["dealstage"] = [*stages[:nxt], [pipe.lost_stage, t, *src]]
        for prop in ("amount", "closedate", "deal_currency_code", "pipeline"):
            if prop in deal.hist:
                deal.hist[prop] = [v for v in deal.hist[prop] if v[1] <= t]
        deal.hist.setdefault("closedate", []).append([store.ms_to_iso(t), t, *src])
        _touch(deal, t)
        _save_deal(conn, deal)
        changed.append(str(did))
    inj.deal_ids = changed
    inj.details = {
        "entered_in_window": entered,
        "advanced_before": advanced,
        "advanced_after": advanced - len(changed),
        "made_lost": len(changed),
        "rate_before": round(advanced / entered, 4) if entered else None,
        "rate_after": round((advanced - len(changed)) / entered, 4) if entered else None,
    }


def _lead_volume_collapse(conn: sqlite3.Connection, rng: random.Random, inj: Injection, end_d: date) -> None:
    end_ms = _end_ms(end_d)
    lo_d = end_d - timedelta(days=6)
    lo = store.date_to_ms(lo_d)
    inj.window = [lo_d.isoformat(), end_d.isoformat()]
    rows = conn.execute(
        "SELECT id, createdate FROM contacts WHERE hs_analytics_source = 'PAID_SEARCH' AND archived = 0 "
        "AND merged_into IS NULL AND createdate >= ? AND createdate < ? ORDER BY id",
        (lo, end_ms),
    ).fetchall()
    removable = [
        r[0]
        for r in rows
        if not conn.execute("SELECT hs_merged_object_ids FROM contacts WHERE id = ?", (r[0],)).fetchone()[0]
    ]
    keep_n = round(0.10 * len(rows))
    n_remove = max(0, min(len(removable), len(rows) - keep_n))
    removed = sorted(rng.sample(removable, n_remove))
    for chunk in range(0, len(removed), 500):
        ids = removed[chunk : chunk + 500]
        marks = ",".join("?" * len(ids))
        conn.execute(f"DELETE FROM deal_contacts WHERE contact_id IN ({marks})", ids)
        conn.execute(f"DELETE FROM contacts WHERE id IN ({marks})", ids)
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    gone = set(removed)
    for cid, created in rows:
        day = (lo_d + timedelta(days=(created - lo) // DAY_MS)).isoformat()
        per_day[day][0] += 1
        per_day[day][1] += cid not in gone
    inj.contact_ids = [str(c) for c in removed]
    inj.details = {
        "channel": "PAID_SEARCH",
        "leads_before": len(rows),
        "leads_after": len(rows) - len(removed),
        "removed": len(removed),
        "per_day_before_after": dict(sorted(per_day.items())),
    }


def _dwell_spike(conn: sqlite3.Connection, _rng: random.Random, inj: Injection, end_d: date) -> None:
    end_ms = _end_ms(end_d)
    lo_d = end_d - timedelta(days=13)
    lo = store.date_to_ms(lo_d)
    inj.window = [lo_d.isoformat(), end_d.isoformat()]
    factor = 4
    stretched = now_open = 0
    changed: list[str] = []
    marks = ",".join("?" * len(PRESENTATION_STAGES))
    visited = {
        r[0]
        for r in conn.execute(
            f"SELECT DISTINCT deal_id FROM deal_history WHERE property = 'dealstage' AND value IN ({marks})",
            sorted(PRESENTATION_STAGES),
        )
    }
    for did in (d for d in _live_deal_ids(conn) if d in visited):
        deal = _load_deal(conn, did)
        touched = False
        k = 0
        while True:
            visits = _visits(deal.stages)
            if k >= len(visits) - 1:  # the last visit never exits by E
                break
            first, after = visits[k]
            k += 1
            if deal.stages[first][0] not in PRESENTATION_STAGES:
                continue
            t_in, t_out = deal.stages[first][1], deal.stages[after][1]
            d = t_out - t_in
            # stretch every visit that exits in the window once stretched, and every one that
            # exited in it before: afterwards, each presentation visit exiting there lasts 4x
            if not (lo <= t_in + factor * d < end_ms or lo <= t_out < end_ms):
                continue
            shift = (factor - 1) * d
            for prop, versions in deal.hist.items():
                for v in versions:
                    if v[1] >= t_out:
                        if prop == "closedate" and store.iso_to_ms(v[0]) == v[1]:
                            v[0] = store.ms_to_iso(v[1] + shift)  # a close move: value = when
                        v[1] += shift
                deal.hist[prop] = [v for v in versions if v[1] < end_ms]
            stretched += 1
            touched = True
            if t_out + shift >= end_ms:
                now_open += 1
                break
        if touched:
            deal.row["hs_lastmodifieddate"] = min(
                max(deal.row["hs_lastmodifieddate"], _last_history_ms(deal)), end_ms - 1
            )
            _save_deal(conn, deal)
            changed.append(str(did))
    inj.deal_ids = changed
    inj.details = {
        "factor": factor,
        "visits_stretched": stretched,
        "visits_now_open_at_end": now_open,
        "visits_exiting_in_window": stretched - now_open,
    }


def _stuck_deals(conn: sqlite3.Connection, rng: random.Random, inj: Injection, end_d: date) -> None:
    from emulators.truth import generator as g

    lo_d, hi_d = end_d - timedelta(days=120), end_d - timedelta(days=60)
    inj.window = [lo_d.isoformat(), hi_d.isoformat()]
    n = 60
    next_id = conn.execute("SELECT max(id) FROM deals").fetchone()[0] + 1
    owners = [r[0] for r in conn.execute("SELECT id FROM owners WHERE archived = 0 ORDER BY id")]
    contacts = conn.execute("SELECT createdate, id FROM contacts WHERE archived = 0 ORDER BY createdate, id").fetchall()
    contact_times = [c[0] for c in contacts]
    created_ids: list[str] = []
    entered: list[str] = []
    for _ in range(n):
        did = next_id
        next_id += rng.randint(1, 3)
        t_neg = store.date_to_ms(lo_d) + int(rng.random() * ((hi_d - lo_d).days + 1) * DAY_MS)
        stage = rng.choice(NEGOTIATION_STAGES)
        # walk back from the negotiation entry through the earlier stages
        path = list(DEFAULT_PIPELINE.open_stages[: DEFAULT_PIPELINE.open_stages.index(stage) + 1])
        times = [t_neg]
        for _s in path[:-1]:
            times.insert(0, times[0] - g._days_ms(rng, 6.0, 0.6))
        created = times[0]
        src = ("CRM_UI", None, None)
        owner = rng.choice(owners)
        amount = g._round_amount(rng, rng.lognormvariate(math.log(8000.0), 0.9))
        currency = rng.choices(store.CURRENCIES, g.CURRENCY_WEIGHTS)[0]
        expected_close = created + g._days_ms(rng, 45.0, 0.6)
        hist = {
            "dealstage": [[s, t, *src] for s, t in zip(path, times, strict=True)],
            "pipeline": [[DEFAULT_PIPELINE.id, created, *src]],
            "deal_currency_code": [[currency, created, *src]],
            "amount": [[amount, created, *src]],
            "closedate": [[store.ms_to_iso(expected_close), created, *src]],
        }
        name = f"{rng.choice(g.CO_PREFIX)}{rng.choice(g.CO_SUFFIX)} {rng.choice(g.CO_FORM)} - {rng.choice(g.PRODUCTS)}"
        row = {
            "id": did,
            "dealname": name,
            "dealtype": "newbusiness",
            "createdate": created,
            "hs_lastmodifieddate": t_neg,
            "pipeline": DEFAULT_PIPELINE.id,
            "dealstage": stage,
            "amount": amount,
            "deal_currency_code": currency,
            "closedate": None,
            "hubspot_owner_id": owner,
            "hs_is_closed": "false",
            "hs_is_closed_won": "false",
            "hs_merged_object_ids": None,
            "archived": 0,
            "archived_at": None,
            "merged_into": None,
        }
        deal = _Deal(row, hist)
        _save_deal(conn, deal, insert=True)
        before = bisect.bisect_left(contact_times, created)  # contacts created before the deal
        if before:
            contact = contacts[max(0, before - 1 - rng.randrange(200))][1]
            conn.execute("INSERT INTO deal_contacts VALUES (?, ?)", (did, contact))
        created_ids.append(str(did))
        entered.append(store.ms_to_iso(t_neg) or "")
    inj.deal_ids = created_ids
    inj.details = {"added_open_deals": n, "entered_negotiation_stage_at": dict(zip(created_ids, entered, strict=True))}


def _bulk_edit_flap(conn: sqlite3.Connection, rng: random.Random, inj: Injection, end_d: date) -> None:
    day = end_d - timedelta(days=2)
    day_ms = store.date_to_ms(day)
    inj.window = [day.isoformat(), day.isoformat()]
    n, flips = 80, 4
    # open default-pipeline deals in presentation or negotiation, unchanged since before the day
    candidates = _live_deal_ids(
        conn,
        "pipeline = 'default' AND dealstage IN ('presentationscheduled', "
        "'decisionmakerboughtin', 'contractsent') AND createdate < ?",
        (day_ms,),
    )
    usable = []
    for did in candidates:
        last = conn.execute("SELECT max(timestamp) FROM deal_history WHERE deal_id = ?", (did,)).fetchone()[0]
        if last < day_ms:
            usable.append(did)
    picked = sorted(rng.sample(usable, min(n, len(usable))))
    start = day_ms + 14 * HOUR_MS + int(rng.random() * HOUR_MS)  # the bulk job starts ~14:xx
    src = ("INTEGRATION", "1118422", None)
    other_of = {
        "presentationscheduled": "qualifiedtobuy",
        "decisionmakerboughtin": "presentationscheduled",
        "contractsent": "presentationscheduled",
    }
    for j, did in enumerate(picked):
        deal = _load_deal(conn, did)
        here = deal.stages[-1][0]
        there = other_of[here]
        t = start + j * 20_000  # the job works through its list, 20 s per deal (~27 min)
        for f in range(flips):
            t += rng.randint(500, 5_000)
            deal.stages.append([there if f % 2 == 0 else here, t, *src])
        _touch(deal, t)
        _save_deal(conn, deal)
    inj.deal_ids = [str(d) for d in picked]
    inj.details = {
        "deals": len(picked),
        "changes_per_deal": flips,
        "regressions": len(picked) * flips // 2,
        "transitions": len(picked) * flips,
        "job_started_at": store.ms_to_iso(start),
    }


def _corrupted_timestamps(conn: sqlite3.Connection, rng: random.Random, inj: Injection, end_d: date) -> None:
    end_ms = _end_ms(end_d)
    n_before, n_future = 15, 10
    ids = _live_deal_ids(conn)
    picked = rng.sample(ids, n_before + n_future)
    before, future = sorted(picked[:n_before]), sorted(picked[n_before:])
    detail: dict[str, dict[str, str]] = {"before_creation": {}, "future": {}}
    src = ("INTEGRATION", "229813", None)
    for did in before:
        deal = _load_deal(conn, did)
        t = deal.row["createdate"] - int(rng.uniform(1, 30) * DAY_MS)
        deal.stages.insert(0, [deal.stages[0][0], t, *src])  # an import dated before creation
        _save_deal(conn, deal)
        detail["before_creation"][str(did)] = store.ms_to_iso(t) or ""
    for did in future:
        deal = _load_deal(conn, did)
        t = end_ms + int(rng.uniform(2.0, 5.0) * 365.25 * DAY_MS)
        deal.stages.append([deal.stages[-1][0], t, *src])  # same stage, a clock years ahead
        _save_deal(conn, deal)
        detail["future"][str(did)] = store.ms_to_iso(t) or ""
    inj.window = [end_d.isoformat(), end_d.isoformat()]
    inj.deal_ids = [str(d) for d in sorted(picked)]
    inj.details = detail


_INJECTORS = {
    "conversion_drop": _conversion_drop,
    "lead_volume_collapse": _lead_volume_collapse,
    "dwell_spike": _dwell_spike,
    "stuck_deals": _stuck_deals,
    "bulk_edit_flap": _bulk_edit_flap,
    "corrupted_timestamps": _corrupted_timestamps,
}


def inject(conn: sqlite3.Connection, scenario: str, *, seed: int, end_date: date) -> Injection:
    """Apply ``scenario`` to the sandbox open on ``conn`` and record it in ``meta``.

    Called by the generator inside its transaction; deterministic per (seed, scenario).
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    spec = SCENARIOS[scenario]
    inj = Injection(
        scenario=scenario,
        seed=seed,
        end_date=end_date.isoformat(),
        anomaly=spec.anomaly,
        expected_checks=list(spec.expected_checks),
        require=spec.require,
        severity=spec.severity,
        code_version=code_version(),
    )
    if scenario in _INJECTORS:
        rng = random.Random(f"scenario:{scenario}:{seed}")
        _INJECTORS[scenario](conn, rng, inj, end_date)
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (META_KEY, inj.to_json()))
    return inj


__all__ = ["ANOMALY_SCENARIOS", "SCENARIOS", "Injection", "ScenarioSpec", "code_version", "inject", "read_injection"]
