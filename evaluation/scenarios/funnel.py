"""Scenarios that change how deals move through the funnel: conversion drop, dwell spike, stuck deals."""

from __future__ import annotations

import bisect
import math
import random
import sqlite3
from datetime import date, timedelta

from core.epoch import DAY_MS
from emulators.truth import store
from emulators.truth.store import DEFAULT_PIPELINE, STAGE_INDEX
from evaluation.scenarios.deals import (
    NEGOTIATION_STAGES,
    PRESENTATION_STAGES,
    STEP_ORDER,
    Deal,
    last_history_ms,
    live_deal_ids,
    load_deal,
    period_end_ms,
    save_deal,
    stage_visits,
    touch_deal,
)
from evaluation.scenarios.specs import Injection


def _conversion_drop(conn: sqlite3.Connection, rng: random.Random, inj: Injection, end_d: date) -> None:
    lo_d, hi_d = end_d - timedelta(days=41), end_d - timedelta(days=28)
    lo, hi = store.date_to_ms(lo_d), store.date_to_ms(hi_d + timedelta(days=1))
    inj.window = [lo_d.isoformat(), hi_d.isoformat()]
    entered = advanced = 0
    changed: list[str] = []
    # candidates: deals created up to the window's end (entry into qualification is at or after)
    for did in live_deal_ids(conn, "createdate < ?", (hi,)):
        deal = load_deal(conn, did)
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
        touch_deal(deal, t)
        save_deal(conn, deal)
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


def _dwell_spike(conn: sqlite3.Connection, _rng: random.Random, inj: Injection, end_d: date) -> None:
    end_ms = period_end_ms(end_d)
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
    for did in (d for d in live_deal_ids(conn) if d in visited):
        deal = load_deal(conn, did)
        touched = False
        k = 0
        while True:
            visits = stage_visits(deal.stages)
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
                max(deal.row["hs_lastmodifieddate"], last_history_ms(deal)), end_ms - 1
            )
            save_deal(conn, deal)
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
    from emulators.truth.profile import CO_FORM, CO_PREFIX, CO_SUFFIX, CURRENCY_WEIGHTS, PRODUCTS
    from emulators.truth.stages import days_ms

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
            times.insert(0, times[0] - days_ms(rng, 6.0, 0.6))
        created = times[0]
        src = ("CRM_UI", None, None)
        owner = rng.choice(owners)
        amount = g._round_amount(rng, rng.lognormvariate(math.log(8000.0), 0.9))
        currency = rng.choices(store.CURRENCIES, CURRENCY_WEIGHTS)[0]
        expected_close = created + days_ms(rng, 45.0, 0.6)
        hist = {
            "dealstage": [[s, t, *src] for s, t in zip(path, times, strict=True)],
            "pipeline": [[DEFAULT_PIPELINE.id, created, *src]],
            "deal_currency_code": [[currency, created, *src]],
            "amount": [[amount, created, *src]],
            "closedate": [[store.ms_to_iso(expected_close), created, *src]],
        }
        name = f"{rng.choice(CO_PREFIX)}{rng.choice(CO_SUFFIX)} {rng.choice(CO_FORM)} - {rng.choice(PRODUCTS)}"
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
        deal = Deal(row, hist)
        save_deal(conn, deal, insert=True)
        before = bisect.bisect_left(contact_times, created)  # contacts created before the deal
        if before:
            contact = contacts[max(0, before - 1 - rng.randrange(200))][1]
            conn.execute("INSERT INTO deal_contacts VALUES (?, ?)", (did, contact))
        created_ids.append(str(did))
        entered.append(store.ms_to_iso(t_neg) or "")
    inj.deal_ids = created_ids
    inj.details = {"added_open_deals": n, "entered_negotiation_stage_at": dict(zip(created_ids, entered, strict=True))}
