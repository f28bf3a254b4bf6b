"""Seeded, deterministic generator of a fake HubSpot CRM, written to SQLite in chunks.

The layout is documented in :mod:`emulators.truth.store`. Everything is drawn from one
``random.Random(seed)`` stream in a fixed order, so a config always yields the same rows.
Rows are produced day by day and flushed every ``CHUNK`` records, so memory stays flat even
at 1,000,000 deals (only an ``array('q')`` of contact ids is kept for associations).
"""

from __future__ import annotations

import json
import math
import os
import random
import sqlite3
from array import array
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from core.epoch import DAY_MS, HOUR_MS
from emulators.truth import ads, store
from emulators.truth.histories import enrich_deal_history
from emulators.truth.profile import (
    CHANNEL_WEIGHTS,
    CO_FORM,
    CO_PREFIX,
    CO_SUFFIX,
    CURRENCY_WEIGHTS,
    DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    LEAD_STATUS_WEIGHTS,
    LIFECYCLE_WEIGHTS,
    OWNER_WEIGHTS,
    OWNERS,
    P_REPEAT,
    PRODUCTS,
    SOURCE_DATA,
)
from emulators.truth.seasons import deal_creation_weight
from emulators.truth.stages import days_ms, simulate_stages
from emulators.truth.store import PIPELINES, RENEWALS_PIPELINE

SANDBOX_END_DATE = date(2026, 10, 31)
CHUNK = 10_000

CONTACT_ID_START = 99_001  # crosses 100000 early: lexicographic id sorts break visibly
DEAL_ID_START = 9_999_999_001  # crosses 10^10 after ~500 deals for the same reason
OWNER_ID_START = 41_235_678

ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SandboxConfig:
    """What to generate. Data is anchored to ``end_date``: every timestamp is earlier than
    ``end_date + 1 day`` 00:00 UTC, and the period covers ``months`` calendar months."""

    seed: int = 7
    n_contacts: int = 2000
    n_deals: int = 600
    months: int = 12
    end_date: date = SANDBOX_END_DATE
    # --- anomaly-scenario hook (evaluation/scenarios.py): None = a plain sandbox ---
    scenario: str | None = None
    # --- account-variation hook (emulators/truth/variation.py): opt-in, for the anomaly eval ---
    variation: bool = False

    def to_json(self) -> dict:
        d = asdict(self)
        d["end_date"] = self.end_date.isoformat()
        d["schema_version"] = store.SCHEMA_VERSION
        d["ads_version"] = ads.VERSION  # ad-spend hook (emulators/truth/ads.py)
        if d["scenario"] is None:  # scenario hook: a plain sandbox's config (and bytes) unchanged
            del d["scenario"]
        if not d["variation"]:  # variation hook: likewise
            del d["variation"]
        return d


def period(config: SandboxConfig) -> tuple[date, int, int, int]:
    """(first day, number of days, start ms, exclusive end ms) of the generated period."""
    end_excl = config.end_date + timedelta(days=1)
    y, m = divmod(end_excl.year * 12 + end_excl.month - 1 - config.months, 12)
    start = date(y, m + 1, min(end_excl.day, 28))
    n_days = (end_excl - start).days
    return start, n_days, store.date_to_ms(start), store.date_to_ms(end_excl)


# ---------------------------------------------------------------- reference vocabularies

# ---------------------------------------------------------------- small helpers


def _daily_counts(
    rng: random.Random,
    n: int,
    start: date,
    n_days: int,
    *,
    weekend: float,
    trend: float,
    first_day: int = 0,
    season: Callable[[date], float] | None = None,
) -> list[int]:
    """Split ``n`` records over days: weekday/weekend ratio, linear trend, monthly wave (and
    ``season(day)``, a calendar weight: :mod:`emulators.truth.seasons`)."""
    weights = []
    for d in range(n_days):
        day = start + timedelta(days=d)
        w = 1.0 if day.weekday() < 5 else weekend
        w *= 1.0 + trend * d / max(1, n_days - 1)
        w *= 1.0 + 0.08 * math.sin(2 * math.pi * (day.month - 1) / 12)
        w *= rng.lognormvariate(0.0, 0.12)
        if season is not None:
            w *= season(day)
        weights.append(w if d >= first_day else 0.0)
    total = sum(weights)
    exact = [n * w / total for w in weights]
    counts = [int(x) for x in exact]
    short = n - sum(counts)
    order = sorted(range(n_days), key=lambda i: (counts[i] - exact[i], i))
    for i in order[:short]:
        counts[i] += 1
    return counts


def _times_in_day(rng: random.Random, k: int, day_ms: int) -> list[int]:
    """``k`` sorted ms timestamps within one day, skewed to business hours (UTC)."""
    out = []
    for _ in range(k):
        business = rng.random() < 0.78
        h = min(23.999, max(0.0, rng.gauss(14.0, 3.2))) if business else rng.random() * 24.0
        out.append(day_ms + int(h * HOUR_MS))
    out.sort()
    return out


def _source(rng: random.Random, user_id: int) -> tuple[str, str | None, int | None]:
    r = rng.random()
    if r < 0.60:
        return "CRM_UI", f"userId:{user_id}", user_id
    if r < 0.75:
        return "API", str(rng.choice((491217, 733104))), None
    if r < 0.87:
        return "AUTOMATION", f"workflowId:{rng.choice((20113, 20987, 31002))}", None
    return "INTEGRATION", str(rng.choice((1118422, 229813))), None


def _round_amount(rng: random.Random, x: float) -> str:
    if rng.random() < 0.12:
        return f"{x:.2f}"
    step = 10 if x < 1000 else 100
    return str(max(step, round(x / step) * step))


def _insert_reference(
    conn: sqlite3.Connection, config: SandboxConfig, start_ms: int, end_ms: int
) -> list[tuple[int, int, float]]:
    """Owners, pipelines, stages, meta. Returns [(owner_id, user_id, weight)] for live use."""
    created = start_ms - 400 * DAY_MS
    owners = []
    for k, (first, last, teams) in enumerate(OWNERS):
        oid, uid = OWNER_ID_START + k * 7919, 28_604_240 + k * 131
        archived = k == len(OWNERS) - 1
        arch_at = (start_ms + end_ms) // 2 if archived else None
        team_json = json.dumps([{"id": str(900 + k % 4), "name": t, "primary": True} for t in teams])
        email = f"{first.lower()}.{last.lower()}@sandbox-crm.example"
        conn.execute(
            "INSERT INTO owners VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                oid,
                email,
                first,
                last,
                uid,
                team_json,
                created + k * DAY_MS,
                arch_at or (created + k * DAY_MS + 30 * DAY_MS),
                int(archived),
                arch_at,
            ),
        )
        owners.append((oid, uid, OWNER_WEIGHTS[k]))
    for p in PIPELINES:
        conn.execute(
            "INSERT INTO pipelines VALUES (?,?,?,?,?,0)",
            (p.id, p.label, p.display_order, created - 100 * DAY_MS, created),
        )
        for s in p.stages:
            conn.execute(
                "INSERT INTO stages VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    s.id,
                    p.id,
                    s.label,
                    s.display_order,
                    int(s.is_closed),
                    s.probability,
                    int(s.is_won),
                    created - 100 * DAY_MS,
                    created,
                    int(s.archived),
                ),
            )
    meta = {
        "config": json.dumps(config.to_json(), sort_keys=True),
        "end_date": config.end_date.isoformat(),
        "schema_version": store.SCHEMA_VERSION,
        "mutations": "0",
    }
    conn.executemany("INSERT INTO meta VALUES (?,?)", sorted(meta.items()))
    return owners


def _gen_contacts(conn, rng, config, owners, progress) -> tuple[array, list[int]]:
    """Contacts day by day. Returns (contact ids in creation order, cumulative count/day)."""
    start, n_days, start_ms, end_ms = period(config)
    counts = _daily_counts(rng, config.n_contacts, start, n_days, weekend=0.22, trend=0.3)
    live_owner_ids = [o[0] for o in owners[:-1]]
    owner_w = [o[2] for o in owners[:-1]]
    ids = array("q")
    cum: list[int] = []
    buf: list[list] = []
    next_id = CONTACT_ID_START
    sql = f"INSERT INTO contacts VALUES ({','.join('?' * 22)})"
    done = 0
    for d in range(n_days):
        for created in _times_in_day(rng, counts[d], start_ms + d * DAY_MS):
            cid = next_id
            next_id += rng.randint(1, 3)
            ids.append(cid)
            buf.append(_contact_row(rng, cid, created, end_ms, live_owner_ids, owner_w))
            _maybe_merge(rng, buf, end_ms, contact=True)
            if len(buf) >= CHUNK:
                conn.executemany(sql, buf)
                done += len(buf)
                buf.clear()
                if progress:
                    progress("contacts", done, config.n_contacts)
        cum.append(len(ids))
    if buf:
        conn.executemany(sql, buf)
        if progress:
            progress("contacts", len(ids), config.n_contacts)
    return ids, cum


def _contact_row(rng, cid, created, end_ms, owner_ids, owner_w) -> list:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first.lower()}.{last.lower().replace(chr(39), '')}.{cid}@{rng.choice(DOMAINS)}"
    r = rng.random()
    if r < 0.02:
        channel = None
    elif r < 0.03:
        channel = ""
    else:
        channel = rng.choices(store.CHANNELS, CHANNEL_WEIGHTS)[0]
    d1 = d2 = gclid = None
    if channel:
        opts1, opts2 = SOURCE_DATA[channel]
        d1, d2 = rng.choice(opts1), rng.choice(opts2)
        if channel == "PAID_SEARCH" and d1 == "google":
            gclid = "Cj0KCQ" + "".join(rng.choice("abcdefghijkLMNOPQRS0123456789_-") for _ in range(22))
    stage = rng.choices(store.LIFECYCLE_STAGES, LIFECYCLE_WEIGHTS)[0]
    # lifecycle progression: lead -> mql -> sql -> opportunity -> customer
    target = {
        "lead": 1,
        "marketingqualifiedlead": 2,
        "salesqualifiedlead": 3,
        "opportunity": 4,
        "customer": 5,
        "evangelist": 5,
    }.get(stage, 0)
    entered: list[int | None] = [None] * 5
    t = created
    reached = 0
    for k in range(target):
        if k > 0:
            t += days_ms(rng, (2.0, 6.0, 9.0, 20.0)[k - 1], 0.9)
        if t >= end_ms:
            break
        entered[k] = t
        reached = k + 1
    if reached < target:
        stage = store.LIFECYCLE_DATE_STAGES[reached - 1] if reached else "subscriber"
    lead_status = None if rng.random() < 0.3 else rng.choices(store.LEAD_STATUSES, LEAD_STATUS_WEIGHTS)[0]
    owner = rng.choices(owner_ids, owner_w)[0] if rng.random() < 0.6 else None
    last_ts = max([created] + [e for e in entered if e is not None])
    lastmod = last_ts + days_ms(rng, 1.5, 1.2)
    if lastmod >= end_ms:
        lastmod = last_ts + int(rng.random() * (end_ms - last_ts))
    archived, archived_at = 0, None
    if rng.random() < 0.02:
        at = lastmod + days_ms(rng, 10.0)
        if at < end_ms:
            archived, archived_at, lastmod = 1, at, at
    return [
        cid,
        created,
        lastmod,
        email,
        first,
        last,
        stage,
        lead_status,
        channel,
        d1,
        d2,
        gclid,
        owner,
        None,
        *entered,
        archived,
        archived_at,
        None,
    ]


# column positions used by merges
_C_LASTMOD, _C_MERGED_IDS, _C_ARCH, _C_ARCH_AT, _C_MERGED_INTO = 2, 13, 19, 20, 21
_D_LASTMOD, _D_MERGED_IDS, _D_ARCH, _D_ARCH_AT, _D_MERGED_INTO = 4, 13, 14, 15, 16


def _maybe_merge(rng: random.Random, buf: list[list], end_ms: int, *, contact: bool) -> None:
    """With small probability the newest row absorbs an earlier live row of the chunk."""
    if rng.random() >= (0.01 if contact else 0.005) or len(buf) < 3:
        return
    lm, mids, arch, arch_at, into = (
        (_C_LASTMOD, _C_MERGED_IDS, _C_ARCH, _C_ARCH_AT, _C_MERGED_INTO)
        if contact
        else (_D_LASTMOD, _D_MERGED_IDS, _D_ARCH, _D_ARCH_AT, _D_MERGED_INTO)
    )
    winner = buf[-1]
    if winner[arch]:
        return
    loser = buf[max(0, len(buf) - 2 - rng.randrange(min(40, len(buf) - 1)))]
    if loser is winner or loser[arch] or loser[mids]:
        return
    at = max(winner[1 if contact else 3], loser[lm]) + days_ms(rng, 0.5)
    if at >= end_ms:
        return
    loser[arch], loser[arch_at], loser[into], loser[lm] = 1, at, winner[0], at
    winner[mids] = str(loser[0])
    winner[lm] = max(winner[lm], at)


def _gen_deals(conn, rng, config, owners, contact_ids: array, cum: list[int], progress) -> None:
    start, n_days, start_ms, end_ms = period(config)
    first_day = next((d + 1 for d, c in enumerate(cum) if c > 0), n_days)
    first_day = min(first_day, n_days - 1)
    counts = _daily_counts(
        rng, config.n_deals, start, n_days, weekend=0.2, trend=0.2, first_day=first_day, season=deal_creation_weight
    )
    owner_ids = [o[0] for o in owners]
    user_of = {o[0]: o[1] for o in owners}
    owner_w = [o[2] for o in owners]
    half_ms = (start_ms + end_ms) // 2
    d_sql = f"INSERT INTO deals VALUES ({','.join('?' * 17)})"
    h_sql = "INSERT INTO deal_history VALUES (?,?,?,?,?,?,?,?)"
    a_sql = "INSERT INTO deal_contacts VALUES (?,?)"
    deals: list[list] = []
    hist: list[tuple] = []
    assoc: list[tuple] = []
    next_id = DEAL_ID_START
    done = 0
    for d in range(n_days):
        if not counts[d]:
            continue
        hi = cum[d - 1] if d > 0 else 0
        scale = max(1.0, hi / max(1, d) * 30)
        for created in _times_in_day(rng, counts[d], start_ms + d * DAY_MS):
            did = next_id
            next_id += rng.randint(1, 3)
            owner = rng.choices(owner_ids, owner_w)[0]
            if owner == owner_ids[-1] and created >= half_ms:
                owner = owner_ids[0]
            row, rows_h = _deal(rng, did, created, end_ms, start_ms, owner, user_of[owner])
            rows_h = enrich_deal_history(config.seed, row, rows_h, end_ms)  # own random stream
            deals.append(row)
            hist.extend(rows_h)
            _maybe_merge(rng, deals, end_ms, contact=False)
            if hi:
                first = max(0, hi - 1 - int(rng.expovariate(1.0 / scale)))
                picked = {first}
                for _ in range(rng.choices((0, 1, 2), (0.6, 0.28, 0.12))[0]):
                    picked.add(min(hi - 1, max(0, first + rng.randint(-20, 20))))
                assoc.extend((did, contact_ids[i]) for i in sorted(picked))
            if len(deals) >= CHUNK:
                conn.executemany(d_sql, deals)
                conn.executemany(h_sql, hist)
                conn.executemany(a_sql, assoc)
                done += len(deals)
                deals.clear()
                hist.clear()
                assoc.clear()
                if progress:
                    progress("deals", done, config.n_deals)
    conn.executemany(d_sql, deals)
    conn.executemany(h_sql, hist)
    conn.executemany(a_sql, assoc)
    if progress:
        progress("deals", config.n_deals, config.n_deals)


def _deal(
    rng: random.Random, did: int, created: int, end_ms: int, start_ms: int, owner: int, user_id: int
) -> tuple[list, list[tuple]]:
    """One deal row plus its property-history rows."""
    renewal = rng.random() < 0.05
    pipe = RENEWALS_PIPELINE if renewal else store.DEFAULT_PIPELINE
    legacy = renewal and created < start_ms + (end_ms - start_ms) * 0.4 and rng.random() < 0.5
    stages = simulate_stages(rng, pipe, created, end_ms, legacy)
    hist: list[tuple] = []
    src0 = _source(rng, user_id)

    # dealstage (+ optional repeated same-stage write) ------------------------------
    entries = [(s, t, _source(rng, user_id) if k else src0) for k, (s, t, _) in enumerate(stages)]
    if rng.random() < P_REPEAT:
        k = rng.randrange(len(entries))
        nxt = entries[k + 1][1] if k + 1 < len(entries) else end_ms
        if nxt - entries[k][1] > 2:
            ts = entries[k][1] + rng.randint(1, min(nxt - entries[k][1] - 1, 3 * DAY_MS))
            src = ("INTEGRATION", "1118422", None)
            entries.insert(k + 1, (entries[k][0], ts, src))
    for seq, (s, t, src) in enumerate(entries):
        hist.append((did, "dealstage", seq, s, t, *src))
    hist.append((did, "pipeline", 0, pipe.id, created, *src0))
    currency = rng.choices(store.CURRENCIES, CURRENCY_WEIGHTS)[0]
    hist.append((did, "deal_currency_code", 0, currency, created, *src0))

    # amount ---------------------------------------------------------------------------
    amount = None
    if rng.random() >= 0.08:
        median = 30_000.0 if renewal else 8_000.0
        value = rng.lognormvariate(math.log(median), 0.9)
        amount = _round_amount(rng, value)
        amt_hist = [(amount, created, src0)]
        later = sorted({t for _, t, _ in entries[1:]})
        n_changes = rng.choices((0, 1, 2), (0.65, 0.27, 0.08))[0]
        for t in sorted(rng.sample(later, min(n_changes, len(later)))):
            value *= rng.uniform(0.6, 1.4)
            amount = _round_amount(rng, value)
            amt_hist.append((amount, t, _source(rng, user_id)))
        for seq, (v, t, src) in enumerate(amt_hist):
            hist.append((did, "amount", seq, v, t, *src))

    # closedate: expected date at creation, set on every open -> closed move ----------
    close_hist = []
    if rng.random() < 0.65:
        close_hist.append((created + days_ms(rng, 45.0, 0.6), created, src0))
    closed_entry = {t: src for (s, t, src) in entries}
    for _stage, t, to_closed in stages:
        if to_closed:
            close_hist.append((t, t, closed_entry[t]))
    closedate = close_hist[-1][0] if close_hist else None
    for seq, (v, t, src) in enumerate(close_hist):
        hist.append((did, "closedate", seq, store.ms_to_iso(v), t, *src))

    current = entries[-1][0]
    stage_def = store.STAGE_INDEX[current][1]
    last_ts = max(h[4] for h in hist)
    lastmod = last_ts
    if rng.random() < 0.25:  # calculated-property / integration no-op touches
        touch = last_ts + days_ms(rng, 2.0, 1.0)
        if touch < end_ms:
            lastmod = touch
    archived, archived_at = 0, None
    if rng.random() < 0.02:
        at = lastmod + days_ms(rng, 10.0)
        if at < end_ms:
            archived, archived_at, lastmod = 1, at, at
    name = f"{rng.choice(CO_PREFIX)}{rng.choice(CO_SUFFIX)} {rng.choice(CO_FORM)} - {rng.choice(PRODUCTS)}"
    dealtype = "existingbusiness" if renewal or rng.random() < 0.2 else "newbusiness"
    row = [
        did,
        name,
        dealtype,
        created,
        lastmod,
        pipe.id,
        current,
        amount,
        currency,
        closedate,
        owner,
        "true" if stage_def.is_closed else "false",
        "true" if stage_def.is_won else "false",
        None,
        archived,
        archived_at,
        None,
    ]
    return row, hist


def _write(config: SandboxConfig, path: Path, progress: ProgressCallback | None) -> None:
    conn = sqlite3.connect(str(path))
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA page_size=8192")
        conn.executescript(store.DDL)
        rng = random.Random(config.seed)
        _, _, start_ms, end_ms = period(config)
        conn.execute("BEGIN")
        owners = _insert_reference(conn, config, start_ms, end_ms)
        ids, cum = _gen_contacts(conn, rng, config, owners, progress)
        _gen_deals(conn, rng, config, owners, ids, cum, progress)
        if config.variation:  # --- account-variation hook (opt-in; own RNG, same transaction) ---
            from emulators.truth.variation import vary

            vary(conn, seed=config.seed, start_ms=start_ms, end_ms=end_ms)
        # ad-spend hook: campaigns and daily spend over the contacts (own RNG; CRM rows unchanged)
        ads.generate(conn, seed=config.seed, start=period(config)[0], end_date=config.end_date)
        if config.scenario is not None:  # --- anomaly-scenario hook: inject, same transaction ---
            from evaluation.scenarios import inject

            if progress:
                progress("scenario", 0, 1)
            inject(conn, config.scenario, seed=config.seed, end_date=config.end_date)
        # --- Pipedrive hook: the same truth seen the Pipedrive way (emulators/truth/pipedrive.py) ---
        from emulators.truth.pipedrive import add_pipedrive_tables

        add_pipedrive_tables(conn, config.seed, end_ms)
        conn.commit()
        if progress:
            progress("indexes", 0, 1)
        conn.executescript(store.INDEXES)
        conn.execute("ANALYZE")
        conn.commit()
    finally:
        conn.close()


def build_sandbox(config: SandboxConfig, path: Path, progress: ProgressCallback | None = None) -> Path:
    """Write the sandbox CRM for ``config`` to ``path`` (SQLite) and return ``path``.

    Reuses an existing file built from the same config (mutations included); otherwise
    builds into a temporary file next to it and renames it into place.
    ``progress(phase, done, total)`` is called per chunk when given; nothing is printed.
    """
    path = Path(path)
    if store.read_config_json(path) == config.to_json():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".building")
    tmp.unlink(missing_ok=True)
    _write(config, tmp, progress)
    os.replace(tmp, path)
    for suffix in ("-journal", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def end_date_of(path: Path | str) -> date:
    """The ``end_date`` a sandbox file is anchored to (use it as the demo's AS_OF_DATE)."""
    conn = store.connect(path, readonly=True)
    try:
        return date.fromisoformat(store.read_meta(conn)["end_date"])
    finally:
        conn.close()


__all__ = ["SANDBOX_END_DATE", "SandboxConfig", "build_sandbox", "end_date_of", "period", "simulate_stages"]
