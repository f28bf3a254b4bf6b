"""Pipedrive's view of the shared ground truth: what the CRM needs that HubSpot's shape lacks.

The same people and deals as :mod:`emulators.truth.generator`, seen the Pipedrive way:

* pipelines and stages get integer ids (HubSpot's default pipeline is pipeline 1 with the five
  default Pipedrive stages 1-5; the Renewals pipeline is pipeline 2, its archived stage deleted);
  a closed HubSpot stage becomes the deal's ``status`` (``won``/``lost``), the stage stays the one
  the deal was closed in;
* leads (``pd_leads``): a converted lead is gone from the lead lists, its UUID survives only as
  the deal's ``source_lead_id`` (``pd_deal_leads``); unconverted leads belong to persons without
  deals; some are archived; a few converted leads are still listed (conversion not cleaned up);
* the deal field ``channel`` (Source channel) with its options; a lead's or deal's ``channel``
  is an option id (sometimes null, sometimes an id whose option was deleted);
* each deal's flow (:func:`deal_flow`): ``dealChange`` items with string values and ids in the
  true order, derived from the stage history (stage moves while closed and reopens included).

Tables written by :func:`add_pipedrive_tables` (a hook called by the generator, and by the
emulator for sandbox files built before this module existed)::

    pd_leads(id TEXT PK, title, person_id, owner_id, channel, channel_id, origin, source_name,
             add_time, update_time, is_archived, converted_deal_id, still_listed)
    pd_deal_leads(deal_id PK, source_lead_id, channel, origin)

Times are epoch ms like the rest of the store. Draws come from their own
``random.Random(f"pipedrive:{seed}")``, so HubSpot's data is unchanged by this module.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from emulators.truth import store

DDL = """
CREATE TABLE IF NOT EXISTS pd_leads (
  id TEXT PRIMARY KEY, title TEXT, person_id INTEGER, owner_id INTEGER, channel INTEGER,
  channel_id TEXT, origin TEXT, source_name TEXT, add_time INTEGER NOT NULL,
  update_time INTEGER NOT NULL, is_archived INTEGER NOT NULL, converted_deal_id INTEGER,
  still_listed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pd_deal_leads (
  deal_id INTEGER PRIMARY KEY, source_lead_id TEXT, channel INTEGER, origin TEXT);
"""

# ---------------------------------------------------------------- pipelines and stages


@dataclass(frozen=True)
class PdStage:
    id: int
    pipeline_id: int
    name: str
    order_nr: int
    deal_probability: int
    is_deleted: bool = False


PD_PIPELINES: dict[str, tuple[int, str, int]] = {  # HubSpot pipeline id -> (id, name, order_nr)
    "default": (1, "Sales Pipeline", 1),
    store.RENEWALS_PIPELINE.id: (2, "Renewals", 2),
}
PD_STAGES: dict[str, PdStage] = {  # HubSpot open stage id -> Pipedrive stage
    "appointmentscheduled": PdStage(1, 1, "Qualified", 1, 20),
    "qualifiedtobuy": PdStage(2, 1, "Contact Made", 2, 40),
    "presentationscheduled": PdStage(3, 1, "Demo Scheduled", 3, 60),
    "decisionmakerboughtin": PdStage(4, 1, "Proposal Made", 4, 80),
    "contractsent": PdStage(5, 1, "Negotiations Started", 5, 90),
    "3206386942": PdStage(6, 2, "Legacy Intake", 1, 10, is_deleted=True),
    "3206386937": PdStage(7, 2, "Renewal Identified", 2, 30),
    "3206386938": PdStage(8, 2, "Proposal Sent", 3, 60),
    "3206386939": PdStage(9, 2, "Verbal Commit", 4, 90),
}
STAGE_BY_ID: dict[int, PdStage] = {s.id: s for s in PD_STAGES.values()}

# The deal field `channel` (Source channel): option id -> label, in HubSpot's channel order.
CHANNEL_FIELD_ID = 12_480
CHANNEL_OPTIONS: tuple[tuple[int, str], ...] = (
    (31, "Organic search"),
    (32, "Paid search"),
    (33, "Paid social"),
    (34, "Social media"),
    (35, "Email marketing"),
    (36, "Referral"),
    (37, "Direct traffic"),
    (38, "Offline sources"),
    (39, "Other"),
)
CHANNEL_OF_HUBSPOT: dict[str, int] = {ch: opt for ch, (opt, _) in zip(store.CHANNELS, CHANNEL_OPTIONS, strict=True)}
DELETED_CHANNEL_OPTION = 30  # an id whose option was deleted: maps to `unknown`

P_CONVERTED = 0.55  # deals converted from a lead
P_STILL_LISTED = 0.03  # converted leads the API still lists
P_LEAD_OF_PERSON = 0.35  # persons without deals that have an open lead
P_LEAD_ARCHIVED = 0.08
P_DEAL_CHANNEL = 0.5  # deals created directly that carry a channel anyway
P_CLOSED_MOVE = 0.03  # closed deals whose stage is moved while closed (no reopen)


def pd_stage(hubspot_stage: str) -> PdStage | None:
    """The Pipedrive stage of a HubSpot open stage; None for HubSpot's won/lost stages."""
    return PD_STAGES.get(hubspot_stage)


def pd_status(hubspot_stage: str) -> str:
    """``open``, ``won`` or ``lost`` for a HubSpot stage id."""
    if hubspot_stage in PD_STAGES:
        return "open"
    _pipe, stage = store.STAGE_INDEX[hubspot_stage]
    return "won" if stage.is_won else "lost"


# ---------------------------------------------------------------- generation (the hook)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _channel(rng: random.Random, hubspot_channel: str | None) -> int | None:
    r = rng.random()
    if r < 0.03:
        return None
    if r < 0.05:
        return DELETED_CHANNEL_OPTION
    return CHANNEL_OF_HUBSPOT.get(hubspot_channel or "")


def add_pipedrive_tables(conn: sqlite3.Connection, seed: int, end_ms: int) -> None:
    """Create and fill ``pd_leads`` / ``pd_deal_leads`` (no-op when already filled)."""
    conn.executescript(DDL)
    if conn.execute("SELECT count(*) FROM pd_deal_leads").fetchone()[0]:
        return
    rng = random.Random(f"pipedrive:{seed}")
    first_contact = dict(
        conn.execute(
            "SELECT a.deal_id, c.hs_analytics_source FROM deal_contacts a JOIN contacts c ON c.id = a.contact_id "
            "WHERE a.contact_id = (SELECT min(contact_id) FROM deal_contacts b WHERE b.deal_id = a.deal_id)"
        ).fetchall()
    )
    leads: list[tuple] = []
    deal_leads: list[tuple] = []
    for did, created, owner in conn.execute("SELECT id, createdate, hubspot_owner_id FROM deals ORDER BY id"):
        channel = _channel(rng, first_contact.get(did))
        if rng.random() < P_CONVERTED:
            lead_id = _uuid(rng)
            add = created - int(rng.uniform(1.0, 480.0) * 3_600_000)
            still = int(rng.random() < P_STILL_LISTED)
            leads.append(
                (lead_id, f"Lead for deal {did}", None, owner, channel, None, "API", "API", add, add, 0, did, still)
            )
            deal_leads.append((did, lead_id, channel, "API"))
        else:
            deal_leads.append((did, None, channel if rng.random() < P_DEAL_CHANNEL else None, "ManuallyCreated"))
    with_deals = {r[0] for r in conn.execute("SELECT DISTINCT contact_id FROM deal_contacts")}
    for cid, created, channel_raw, owner, first, last in conn.execute(
        "SELECT id, createdate, hs_analytics_source, hubspot_owner_id, firstname, lastname FROM contacts "
        "WHERE archived = 0 ORDER BY id"
    ):
        if cid in with_deals or rng.random() >= P_LEAD_OF_PERSON:
            continue
        add = created + int(rng.uniform(0.0, 120.0) * 60_000)
        if add >= end_ms:
            continue
        upd = min(end_ms - 1, add + int(rng.expovariate(1 / 3.0) * 86_400_000))
        archived = int(rng.random() < P_LEAD_ARCHIVED)
        channel = _channel(rng, channel_raw)
        origin = rng.choice(("ManuallyCreated", "WebForms", "Import", "API"))
        leads.append(
            (_uuid(rng), f"{first} {last}", cid, owner, channel, None, origin, origin, add, upd, archived, None, 1)
        )
    conn.executemany(f"INSERT INTO pd_leads VALUES ({','.join('?' * 13)})", leads)
    conn.executemany("INSERT INTO pd_deal_leads VALUES (?,?,?,?)", deal_leads)


def ensure_pipedrive_tables(path: Path | str) -> None:
    """Add the Pipedrive tables to a sandbox file built without them (idempotent)."""
    conn = sqlite3.connect(str(path), timeout=30)
    try:
        have = conn.execute("SELECT name FROM sqlite_master WHERE name = 'pd_deal_leads'").fetchone()
        if have and conn.execute("SELECT count(*) FROM pd_deal_leads").fetchone()[0]:
            return
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        seed = int(json.loads(meta["config"]).get("seed", 0))
        end_ms = store.iso_to_ms(meta["end_date"]) + 86_400_000
        conn.execute("BEGIN")
        add_pipedrive_tables(conn, seed, end_ms)
        conn.commit()
    finally:
        conn.close()


# ---------------------------------------------------------------- flow (stage and status changes)


@dataclass(frozen=True)
class FlowChange:
    """One ``dealChange`` of a deal's flow, in true order (``id`` ascending)."""

    id: int
    deal_id: int
    field_key: str
    old_value: str | None
    new_value: str | None
    ts_ms: int


def _change_id(ts_ms: int, k: int) -> int:
    return ts_ms * 4 + k


# HubSpot property -> Pipedrive flow field_key of the deal properties the pipeline snapshots read
FLOW_PROPERTIES: dict[str, str] = {
    "amount": "value",
    "deal_currency_code": "currency",
    "closedate": "expected_close_date",
}


def flow_value_text(field_key: str, hubspot_value: str | None) -> str | None:
    """A HubSpot property value as Pipedrive's flow logs it (strings): ``value`` is the number
    (``"0"`` when empty: Pipedrive stores 0 for a deal without a value), ``currency`` the code,
    ``expected_close_date`` the UTC day ``YYYY-MM-DD``; an empty currency or date is null."""
    if hubspot_value in (None, ""):
        return "0" if field_key == "value" else None
    assert hubspot_value is not None
    if field_key == "value":
        v = float(hubspot_value)
        return str(int(v)) if v.is_integer() else repr(v)
    if field_key == "expected_close_date":
        return time.strftime("%Y-%m-%d", time.gmtime(store.iso_to_ms(hubspot_value) // 1000))
    return hubspot_value.upper()


def deal_flow(conn: sqlite3.Connection, deal_id: int) -> tuple[list[FlowChange], str, int, int]:
    """The deal's flow changes (oldest first), final status, final stage id and pipeline id.

    Replays the HubSpot stage history: open -> open moves are ``stage_id`` changes; entering
    won/lost is a ``status`` change; leaving a closed stage for an open one is a reopen (a
    ``status`` change to ``open``), preceded by a ``stage_id`` change at the same instant when
    the deal reopens in another stage (moved while closed). Closed -> closed is a status change.
    A few closed deals get their stage moved while closed (no reopen). Amount, currency and
    close-date edits become ``value``, ``currency`` and ``expected_close_date`` changes
    (:func:`flow_value_text`; ignored by the funnel): the value a deal was created with is no
    change (it is the ``old_value`` of the first one), a value first set after creation is a
    change from the empty value, and an edit that leaves the logged text unchanged (a close
    date moved within its day) is none. Merged-away deals end with a status ``deleted``.
    Change ids ascend in true order (several changes at one instant: the order they were made).
    """
    rows = conn.execute(
        "SELECT property, seq, value, timestamp FROM deal_history WHERE deal_id = ? "
        "AND property IN ('dealstage', 'amount', 'deal_currency_code', 'closedate') "
        "ORDER BY timestamp, property DESC, seq",
        (deal_id,),
    ).fetchall()
    deal = conn.execute(
        "SELECT merged_into, hs_lastmodifieddate, createdate FROM deals WHERE id = ?", (deal_id,)
    ).fetchone()
    rng = random.Random(f"pipedrive-flow:{deal_id}")
    out: list[FlowChange] = []
    status, held = "open", None
    logged: dict[str, str | None] = {}  # field_key -> the value the deal holds (once known)
    created = int(deal["createdate"]) if deal is not None else 0
    at_instant: dict[int, int] = {}  # changes made so far at each instant (orders their ids)

    def emit(field: str, old: str | None, new: str | None, ts: int) -> None:
        k = at_instant.get(ts, 0)
        at_instant[ts] = k + 1
        out.append(FlowChange(_change_id(ts, k), deal_id, field, old, new, ts))

    stage_times = [r[3] for r in rows if r[0] == "dealstage"]
    lastmod = int(deal["hs_lastmodifieddate"]) if deal is not None else 0
    for prop, _seq, value, ts in rows:
        if prop in FLOW_PROPERTIES:
            field = FLOW_PROPERTIES[prop]
            text = flow_value_text(field, value)
            if field not in logged and ts <= created:
                logged[field] = text  # the value the deal was created with
            else:
                old = logged.get(field, flow_value_text(field, None))
                if text != old:
                    emit(field, old, text, ts)
                logged[field] = text
            continue
        stage = pd_stage(value)
        if held is None:  # the creation entry: the deal's initial stage
            held = stage.id if stage else None
            status = "open" if stage else pd_status(value)
            if held is None:
                held = _fallback_stage(value)
            continue
        if stage is not None:
            if status == "open":
                emit("stage_id", str(held), str(stage.id), ts)
            else:
                if stage.id != held:
                    emit("stage_id", str(held), str(stage.id), ts)
                emit("status", status, "open", ts)
                status = "open"
            held = stage.id
        else:
            new_status = pd_status(value)
            if new_status != status:
                emit("status", status, new_status, ts)
                status = new_status
                if rng.random() < P_CLOSED_MOVE:
                    other = [s.id for s in PD_STAGES.values() if s.pipeline_id == STAGE_BY_ID[held].pipeline_id]
                    other = [s for s in other if s != held and not STAGE_BY_ID[s].is_deleted]
                    t2 = ts + 3_600_000
                    later = [t for t in stage_times if t > ts]
                    if other and t2 <= lastmod and (not later or t2 < later[0]):
                        new = rng.choice(other)
                        emit("stage_id", str(held), str(new), t2)
                        held = new
    if deal is not None and deal["merged_into"] is not None:
        emit("status", status, "deleted", int(deal["hs_lastmodifieddate"]))
        status = "deleted"
    assert held is not None
    out.sort(key=lambda c: c.id)
    return out, status, held, STAGE_BY_ID[held].pipeline_id


def _fallback_stage(hubspot_stage: str) -> int:
    """A deal created straight into a closed stage: the first stage of its pipeline."""
    pipe, _stage = store.STAGE_INDEX[hubspot_stage]
    return PD_STAGES[pipe.open_stages[0]].id
