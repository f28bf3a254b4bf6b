"""Anomalies injected into the checks' input relations (rows of ``fct_deal_stage_history`` and
``mart_lead_volume_daily``), at a given effect size, and the structural one (corrupted timestamps)
into the CRM's stage-history entry times, judged by the quarantine rules. Deterministic per rng.

Every injector keeps the visit table self-consistent: a deal's visits stay ordered and
contiguous (each visit exits when the next one starts), nothing is dated at or after E, a visit
running past E becomes the deal's open (current) visit and the later ones are dropped.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from core.funnel import STEP_ORDER
from tests.reference.funnel import as_of_instant, is_live, to_utc
from tests.reference.quarantine import quarantine_rows

Row = dict[str, Any]


@dataclass(frozen=True)
class Effect:
    scenario: str
    label: str
    size: float
    expected_checks: tuple[str, ...]


CONVERSION_STEP = "qualification"
DWELL_STEP = "presentation"
STUCK_STEP = "negotiation"
PAID_CHANNELS = ("paid_search", "paid_social")
"""The lead collapse hits the account's larger paid channel (by leads over the period)."""
EFFECTS: tuple[Effect, ...] = (
    Effect("conversion_drop", "conversion x1/2, 5 weeks", 1 / 2, ("stage_conversion_drop",)),
    Effect("conversion_drop", "conversion x1/3, 5 weeks", 1 / 3, ("stage_conversion_drop",)),
    Effect("lead_volume_collapse", "paid channel leads -80%, 1 week", 0.80, ("lead_volume_anomaly",)),
    Effect("lead_volume_collapse", "paid channel leads -95%, 1 week", 0.95, ("lead_volume_anomaly",)),
    Effect("dwell_spike", "presentation dwell x2, 4 weeks", 2.0, ("stage_dwell_spike",)),
    Effect("dwell_spike", "presentation dwell x4, 4 weeks", 4.0, ("stage_dwell_spike",)),
    Effect("stuck_deals", "20 deals stuck > 5x usual dwell", 20, ("stuck_deals",)),
    Effect("stuck_deals", "50 deals stuck > 5x usual dwell", 50, ("stuck_deals",)),
    Effect("bulk_edit_flap", "bulk edit: 80 deals flap 4x in an hour", 80, ("transition_burst",)),
)
"""The effects injected into the two relations (:func:`apply`). The stronger effect of each
scenario is the second of its pair."""
STRUCTURAL_EFFECTS: tuple[Effect, ...] = (
    Effect(
        "corrupted_timestamps", "corrupted timestamps: 15 before creation, 10 years ahead", 25, ("quarantined_records",)
    ),
)
"""Faults in single records, injected into the CRM's stage-history entry times (:func:`inject`)."""
HARDER_EFFECTS: tuple[Effect, ...] = (
    Effect("stuck_deals_leak", "50 deals stuck, slow leak (random deals over 45 days)", 50, ("stuck_deals",)),
)
"""Harder renderings kept as extra rows (:func:`apply`): a batch with no common owner or entry
day, at the limit of any count (docs/checks.md#stuck_deals). Last, so the other effects keep their
random streams (each run's rng is seeded by its effect's index here)."""
ALL_EFFECTS: tuple[Effect, ...] = EFFECTS + STRUCTURAL_EFFECTS + HARDER_EFFECTS
"""The power table's rows."""

EXPECTED_CHECKS: dict[str, tuple[str, ...]] = {e.scenario: e.expected_checks for e in ALL_EFFECTS}
"""Scenario → the check names that must fire to call it detected (one place to switch): the check
whose name says what was found. Corrupted timestamps are structural: the deals are quarantined
(left out of the marts, listed in ``marts.quarantined_records``) and the ERROR check
``quarantined_records`` fails."""


def _by_deal(visits: list[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for v in visits:
        out[v["deal_id"]].append(v)
    for vs in out.values():
        vs.sort(key=lambda v: v["visit_number"])
    return out


def _flatten(deals: dict[str, list[Row]]) -> list[Row]:
    return [v for vs in deals.values() for v in vs]


def _days(d: datetime, e: datetime) -> float:
    return (d - e).total_seconds() / 86400.0


def _close_at(vs: list[Row], k: int, end: datetime) -> None:
    """Make visit k the open (current) one: drop every later visit."""
    del vs[k + 1 :]
    vs[k].update(exited_at=None, is_current=True, dwell_days=_days(end, vs[k]["entered_at"]))


def _fix_dwell(v: Row, end: datetime) -> None:
    v["dwell_days"] = _days(v["exited_at"] or end, v["entered_at"])


def conversion_drop(visits: list[Row], end: datetime, factor: float, rng: random.Random) -> list[Row]:
    """Of the qualification visits that advanced within the last 35 days, keep ``factor``; the
    others are lost at the moment they would have advanced."""
    lo = end - timedelta(days=35)
    deals = _by_deal(visits)
    for vs in deals.values():
        for k, v in enumerate(vs[:-1]):
            nxt = vs[k + 1]
            advanced = STEP_ORDER.get(nxt["funnel_step"], -1) > STEP_ORDER[CONVERSION_STEP]
            if v["funnel_step"] == CONVERSION_STEP and advanced and v["exited_at"] >= lo and rng.random() > factor:
                del vs[k + 2 :]
                nxt.update(
                    funnel_step="lost",
                    funnel_step_order=None,
                    stage_id="closedlost",
                    is_regression=False,
                    is_skip=False,
                    exited_at=None,
                    is_current=True,
                )
                _fix_dwell(nxt, end)
                break
    return _flatten(deals)


def dwell_spike(visits: list[Row], end: datetime, factor: float) -> list[Row]:
    """From E−28 on, time in presentation runs ``factor`` × slower: the part of each visit after
    E−28 is stretched; the deal's later visits shift by the extra time (past E: dropped)."""
    lo = end - timedelta(days=28)
    deals = _by_deal(visits)
    for vs in deals.values():
        for k, v in enumerate(vs):
            if v["funnel_step"] != DWELL_STEP or v["exited_at"] is None or v["exited_at"] < lo:
                continue
            start = max(v["entered_at"], lo)
            new_exit = start + (v["exited_at"] - start) * factor
            shift = new_exit - v["exited_at"]
            if new_exit >= end:
                _close_at(vs, k, end)
                break
            v["exited_at"] = new_exit
            _fix_dwell(v, end)
            for j in range(k + 1, len(vs)):
                w = vs[j]
                w["entered_at"] += shift
                if w["exited_at"] is not None:
                    w["exited_at"] += shift
                if w["exited_at"] is not None and w["exited_at"] >= end:
                    _close_at(vs, j, end)
                    break
                _fix_dwell(w, end)
            break
    return _flatten(deals)


def usual_dwell_days(visits: list[Row], end: datetime) -> float:
    """The plain median dwell of the step's completed visits that entered in the 26 weeks
    before E−28 (the harness's own estimate, independent of the check's Kaplan–Meier one)."""
    lo, hi = end - timedelta(days=28 + 182), end - timedelta(days=28)
    ds = sorted(
        v["dwell_days"]
        for v in visits
        if v["funnel_step"] == STUCK_STEP and v["exited_at"] is not None and lo <= v["entered_at"] < hi
    )
    return ds[len(ds) // 2] if ds else 30.0


STUCK_AGE_MULTIPLE = 5.5
"""The frozen deals entered negotiation before E − 5.5 × its usual dwell (so each is open there
past 5 × at E, the issue's "stuck for more than five times its usual dwell")."""
STUCK_ENTRY_DAYS = 45
"""...within the 45 days before that cut (a batch left stuck for about two months)."""


def _frozen_candidates(deals: dict[str, list[Row]], lo: datetime, hi: datetime) -> list[tuple[datetime, str, int]]:
    """(entered, deal id, visit index) of each deal's latest negotiation visit entered in ``[lo, hi)``
    that left the step (a visit still open there is already stuck on its own), newest first."""
    out = []
    for d, vs in deals.items():
        ks = [k for k, v in enumerate(vs) if v["funnel_step"] == STUCK_STEP and v["exited_at"] is not None]
        ks = [k for k in ks if lo <= vs[k]["entered_at"] < hi]
        if ks:
            out.append((vs[ks[-1]]["entered_at"], d, ks[-1]))
    return sorted(out, reverse=True)


def _freeze(deals: dict[str, list[Row]], picked: list[tuple[datetime, str, int]], end: datetime) -> list[str]:
    """The picked visits never leave negotiation: each becomes its deal's open visit (the deal's
    earlier visits, owner and pipeline kept; its later visits dropped)."""
    for _, d, k in picked:
        _close_at(deals[d], k, end)
    return [d for _, d, _ in picked]


def _imported(
    n: int, owners: list[Any], cut: datetime, end: datetime, rng: random.Random, deals: list[Row] | None
) -> tuple[list[Row], list[str]]:
    """``n`` deals imported straight into negotiation in the 45 days before ``cut`` and never moved
    (the owners in turn; their ``fct_deals`` rows are appended to ``deals``): the part of a batch a
    small account has no deals of its own for (its whole entry flow of those days is frozen first)."""
    rows, ids = [], []
    for i in range(n):
        entered = cut - timedelta(days=rng.uniform(0, STUCK_ENTRY_DAYS))
        did = f"hubspot:stuck{i:04d}"
        ids.append(did)
        rows.append(
            {
                "deal_id": did,
                "source": "hubspot",
                "source_deal_id": f"stuck{i:04d}",
                "pipeline_id": "default",
                "stage_id": "contractsent",
                "funnel_step": STUCK_STEP,
                "funnel_step_order": STEP_ORDER[STUCK_STEP],
                "visit_number": 1,
                "entered_at": entered,
                "exited_at": None,
                "is_current": True,
                "dwell_days": _days(end, entered),
                "is_regression": False,
                "is_skip": False,
            }
        )
        if deals is not None:
            deals.append({"deal_id": did, "owner_id": owners[i % len(owners)] if owners else None})
    return rows, ids


def stuck_deals(
    visits: list[Row], end: datetime, count: int, rng: random.Random, deals: list[Row] | None = None
) -> tuple[list[Row], list[str]]:
    """An owner's deals left stuck (a rep who left, a book nobody took over): from a cut day
    5.5 × negotiation's usual dwell + 0..10 days before E, the last ``count`` EXISTING deals one
    owner moved into negotiation in the 45 days before it never leave it again (`_freeze`). The
    owner is picked at random; when they have fewer such deals, the next owner's most recent ones
    join (a team's deals, e.g. an integration that stopped moving them); when the whole account has
    fewer (a small one: all its entries of those days are frozen), the rest are deals imported into
    negotiation under the first owner in those days and left there (`_imported`; older entries
    would fall outside the 8 weeks a batch is counted in, into the baseline it is measured
    against). ``deals``: rows of ``fct_deals`` (the owners; the imported deals' rows are appended);
    without them every deal counts as one owner's. Returns the visits and the stuck ids."""
    m = usual_dwell_days(visits, end)
    cut = end - timedelta(days=STUCK_AGE_MULTIPLE * m + rng.uniform(0, 10))
    owner = {d["deal_id"]: d.get("owner_id") for d in deals or []}
    by_deal = _by_deal(visits)
    groups: dict[str, list[tuple[datetime, str, int]]] = defaultdict(list)
    named = {str(o): o for o in owner.values()}

    def owner_of(key: str) -> Any:
        return named.get(key)

    for c in _frozen_candidates(by_deal, cut - timedelta(days=STUCK_ENTRY_DAYS), cut):
        groups[str(owner.get(c[1]))].append(c)
    order = sorted(groups)
    rng.shuffle(order)
    picked: list[tuple[datetime, str, int]] = []
    for o in order:
        picked += groups[o][: int(count) - len(picked)]
        if len(picked) >= count:
            break
    ids = _freeze(by_deal, picked, end)
    rows, new = _imported(int(count) - len(picked), [owner_of(order[0])] if order else [], cut, end, rng, deals)
    return _flatten(by_deal) + rows, ids + new


def stuck_deals_leak(
    visits: list[Row], end: datetime, count: int, rng: random.Random, deals: list[Row] | None = None
) -> tuple[list[Row], list[str]]:
    """A slow leak (the harder variant): ``count`` EXISTING deals picked at random among all those
    that entered negotiation in the 45 days before E − 5.5 × its usual dwell (any owner, any day)
    never leave it again; no common owner or entry day tells them from the deals that stall there
    naturally, only their number (docs/checks.md#stuck_deals). A small account with fewer such
    deals adds the rest as deals imported into negotiation in those days, of random owners
    (`_imported`; their ``fct_deals`` rows appended to ``deals``)."""
    m = usual_dwell_days(visits, end)
    cut = end - timedelta(days=STUCK_AGE_MULTIPLE * m)
    by_deal = _by_deal(visits)
    pool = _frozen_candidates(by_deal, cut - timedelta(days=STUCK_ENTRY_DAYS), cut)
    picked = rng.sample(pool, min(int(count), len(pool)))
    ids = _freeze(by_deal, picked, end)
    owners = sorted({d.get("owner_id") for d in deals or []}, key=str)
    rows, new = _imported(int(count) - len(picked), rng.sample(owners, len(owners)), cut, end, rng, deals)
    return _flatten(by_deal) + rows, ids + new


def bulk_edit_flap(visits: list[Row], end: datetime, count: int, rng: random.Random) -> tuple[list[Row], list[str]]:
    """On E−2 at 10:00, up to ``count`` open deals in a step after qualification flap between it
    and the previous step 4 times within an hour."""
    at = end - timedelta(days=2) + timedelta(hours=10)
    deals = _by_deal(visits)
    prev = {s: p for p, s in zip(list(STEP_ORDER), list(STEP_ORDER)[1:], strict=False)}
    candidates = [
        d
        for d, vs in deals.items()
        if vs[-1]["exited_at"] is None
        and vs[-1]["entered_at"] < at
        and vs[-1]["funnel_step"] in ("presentation", "negotiation")
    ]
    picked = rng.sample(sorted(candidates), min(int(count), len(candidates)))
    for d in picked:
        vs = deals[d]
        cur = vs[-1]
        step = cur["funnel_step"]
        cur.update(exited_at=at, is_current=False)
        _fix_dwell(cur, end)
        for j, s in enumerate((prev[step], step, prev[step], step)):
            t0 = at + timedelta(minutes=15 * j)
            last = j == 3
            vs.append(
                {
                    **cur,
                    "funnel_step": s,
                    "funnel_step_order": STEP_ORDER[s],
                    "stage_id": f"flap-{s}",
                    "visit_number": cur["visit_number"] + j + 1,
                    "entered_at": t0,
                    "exited_at": None if last else t0 + timedelta(minutes=15),
                    "is_current": last,
                    "is_regression": s == prev[step],
                    "is_skip": False,
                }
            )
            _fix_dwell(vs[-1], end)
    return _flatten(deals), picked


def lead_volume_collapse(leads: list[Row], as_of: date, drop: float, rng: random.Random) -> list[Row]:
    """The larger paid channel loses ``drop`` of its leads of the last 7 days: round(n × (1 − drop))
    of its n leads of those days are kept, picked at random (so the days they fall on are random).
    The week's count falls by the effect the scenario names, in every seed; a coin flip per lead
    would make the effect itself a draw (one seed's "−95%" kept 5 of its 17 leads, −71%)."""
    first = as_of - timedelta(days=6)
    totals = {c: sum(r["new_leads"] for r in leads if r["channel"] == c) for c in PAID_CHANNELS}
    channel = max(PAID_CHANNELS, key=lambda c: (totals[c], c))
    hit = [i for i, r in enumerate(leads) if r["channel"] == channel and first <= r["lead_date"] <= as_of]
    units = [i for i in hit for _ in range(int(leads[i]["new_leads"]))]
    kept: dict[int, int] = defaultdict(int)
    for i in rng.sample(units, round(len(units) * (1.0 - drop))):
        kept[i] += 1
    gone = set(hit)
    return [
        r if i not in gone else {**r, "new_leads": kept[i]} for i, r in enumerate(leads) if i not in gone or kept[i]
    ]


def corrupted_timestamps(
    deals: list[Row], entry_times: dict[str, list[Any]], as_of: date, count: int, rng: random.Random
) -> tuple[dict[str, list[Any]], list[str]]:
    """3/5 of ``count`` live deals get an extra stage entry 1-30 days before their creation (an
    import), the others one 2-5 years after E (a clock years ahead). Returns the entry times with
    them and the corrupted deal ids."""
    end = as_of_instant(as_of)
    live = sorted(f"{d['source']}:{d['source_deal_id']}" for d in deals if is_live(d) and to_utc(d["created_at"]) < end)
    by_key = {f"{d['source']}:{d['source_deal_id']}": d for d in deals}
    picked = rng.sample(live, min(int(count), len(live)))
    n_before = round(len(picked) * 3 / 5)
    times = dict(entry_times)
    for k, key in enumerate(picked):
        created = to_utc(by_key[key]["created_at"])
        assert created is not None
        if k < n_before:
            t = created - timedelta(days=rng.uniform(1, 30))
        else:
            t = end + timedelta(days=rng.uniform(2.0, 5.0) * 365.25)
        times[key] = [*times.get(key, []), t]
    return times, picked


@dataclass
class Injected:
    visits: list[Row]
    leads: list[Row]
    quarantined: list[Row]
    """Rows of ``marts.quarantined_records`` (the reference's quarantine rules)."""
    deals: list[Row] = field(default_factory=list)
    """Rows of ``marts.fct_deals`` (the account's, plus any deal an injection added)."""


def quarantine_of(deals: list[Row], entry_times: dict[str, list[Any]], as_of: date) -> list[Row]:
    """``marts.quarantined_records`` by the plain-Python quarantine rules (tests/reference/quarantine.py)."""
    return [{**r, "detail": r["rule"]} for r in quarantine_rows(deals, entry_times, as_of_date=as_of)]


def apply(
    effect: Effect,
    visits: list[Row],
    leads: list[Row],
    as_of: date,
    rng: random.Random,
    deals: list[Row] | None = None,
) -> tuple[list[Row], list[Row]]:
    """One of :data:`EFFECTS` injected into the two relations (the rows are changed in place;
    ``deals``, the rows of ``fct_deals``, name the owners the stuck batch is frozen by, and get the
    rows of any deal a stuck batch imports)."""
    end = datetime(as_of.year, as_of.month, as_of.day) + timedelta(days=1)
    if effect.scenario == "conversion_drop":
        return conversion_drop(visits, end, effect.size, rng), leads
    if effect.scenario == "dwell_spike":
        return dwell_spike(visits, end, effect.size), leads
    if effect.scenario == "stuck_deals":
        return stuck_deals(visits, end, int(effect.size), rng, deals)[0], leads
    if effect.scenario == "stuck_deals_leak":
        return stuck_deals_leak(visits, end, int(effect.size), rng, deals)[0], leads
    if effect.scenario == "bulk_edit_flap":
        return bulk_edit_flap(visits, end, int(effect.size), rng)[0], leads
    if effect.scenario == "lead_volume_collapse":
        return visits, lead_volume_collapse(leads, as_of, effect.size, rng)
    raise ValueError(f"no relation injector for {effect.scenario!r}")


def inject(effect: Effect, account: Any, rng: random.Random) -> Injected:
    """Any of :data:`ALL_EFFECTS` injected into a copy of ``account`` (an
    :class:`evaluation.fast.relations.Account`): its relations and its quarantine."""
    as_of: date = account.as_of
    if effect.scenario == "corrupted_timestamps":
        times, _ = corrupted_timestamps(account.crm_deals, account.entry_times, as_of, int(effect.size), rng)
        rows = quarantine_of(account.crm_deals, times, as_of)
        out = {r["deal_id"] for r in rows}  # the marts leave the quarantined deals out entirely
        return Injected([v for v in account.visits if v["deal_id"] not in out], account.leads, rows, account.deals)
    deals = list(account.deals)
    visits, leads = apply(
        effect, [dict(x) for x in account.visits], [dict(x) for x in account.leads], as_of, rng, deals
    )
    return Injected(visits, leads, [], deals)
