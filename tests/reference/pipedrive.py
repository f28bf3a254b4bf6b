"""Independent reference for the Pipedrive rows of the marts (docs/metrics.md on top of docs/metrics.md-4).

Reads the sandbox's ground truth (the SQLite file and its Pipedrive view in
:mod:`emulators.truth.pipedrive`), never the warehouse or the dbt models, turns it into the
generic inputs of :func:`tests.reference.funnel.compute_marts` by the docs/metrics.md rules below, and lets
that module compute the marts. Quoted contract lines sit in the docstrings.

Precision: v2 times have whole seconds and flow ``log_time`` has whole seconds, so deal
``add_time`` and flow times are the truth's times floored to the second; v1 lead times keep ms.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from emulators.truth import pipedrive as pd
from tests.reference.funnel import Row, deal_key, marts_of_inputs, without_quarantined

SOURCE = "pipedrive"
CLOSED = ("won", "lost")


def _sec(ms: int) -> int:
    return int(ms) // 1000 * 1000


def stage_entries(
    deal_id: str, current_stage: str, changes: Iterable[Mapping[str, Any]], pipeline_of: Mapping[str, str]
) -> list[Row]:
    """Generic stage-history entries of one deal from its flow changes (docs/metrics.md "Stage history").

    ``changes``: dicts with ``id`` (int), ``field_key``, ``old_value``, ``new_value`` (strings)
    and ``log_time`` (epoch ms, whole seconds). Entry 0 is the initial state at ``created_at``
    (the caller sets its time).

    - "the items with object dealChange whose data.field_key is stage_id or status ...
      Every other ... field key ... is ignored."
    - "Entries are ordered by log_time, ties by data.id ascending."
    - "Visit 1 starts at the deal's add_time in the old_value of its earliest stage_id entry
      (the deal's stage_id when it has none), or in won/lost when its earliest status entry's
      old_value is won/lost."
    - "A stage_id entry moves the deal's stage and starts a visit only while the status is open
      and the stage differs from the current visit's"; "A status entry to won or lost starts a
      visit with stage_id won/lost ...; one to open (a reopen) starts a visit in the stage the
      deal then holds ...; one to deleted removes the deal."
    - "a won/lost visit's pipeline_id is the pipeline of the stage the deal held then."
    """
    kept = sorted(
        (c for c in changes if c["field_key"] in ("stage_id", "status")), key=lambda c: (c["log_time"], c["id"])
    )
    first_stage = next((c for c in kept if c["field_key"] == "stage_id"), None)
    first_status = next((c for c in kept if c["field_key"] == "status"), None)
    held = first_stage["old_value"] if first_stage else current_stage
    status = first_status["old_value"] if first_status and first_status["old_value"] in CLOSED else "open"
    entries: list[Row] = []

    def add(stage_id: str, at: int | None) -> None:
        entries.append(
            {
                "source": SOURCE,
                "source_deal_id": deal_id,
                "seq": len(entries),
                "stage_id": stage_id,
                "pipeline_id": pipeline_of[held],
                "changed_at": at,
            }
        )

    add(status if status in CLOSED else held, None)
    current = entries[0]["stage_id"]
    for c in kept:
        if c["field_key"] == "stage_id":
            held = c["new_value"]
            if status == "open" and held != current:
                add(held, c["log_time"])
                current = held
        elif c["new_value"] == "deleted":
            break
        elif c["new_value"] in CLOSED:
            status = c["new_value"]
            add(status, c["log_time"])
            current = status
        elif c["new_value"] == "open":
            status = "open"
            add(held, c["log_time"])
            current = held
    return entries


def pipedrive_inputs(sandbox: Path | str) -> dict[str, list[Row]]:
    """The generic inputs of the Pipedrive marts from the sandbox file."""
    conn = sqlite3.connect(f"{Path(sandbox).resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return _inputs(conn)
    finally:
        conn.close()


def _inputs(conn: sqlite3.Connection) -> dict[str, list[Row]]:
    pipeline_of = {str(s.id): str(s.pipeline_id) for s in pd.PD_STAGES.values()}
    labels = {opt: label for opt, label in pd.CHANNEL_OPTIONS}
    extras = {r["deal_id"]: r for r in conn.execute("SELECT * FROM pd_deal_leads")}
    person_of = dict(conn.execute("SELECT deal_id, min(contact_id) FROM deal_contacts GROUP BY deal_id").fetchall())
    deals, history, links, deal_channels = [], [], [], []
    entry_times: dict[str, list[int]] = {}
    live_lead_deals: list[tuple[str, int, int | None, str]] = []
    for row in conn.execute("SELECT * FROM deals ORDER BY id").fetchall():
        did = str(row["id"])
        changes, status, held, pipeline = pd.deal_flow(conn, row["id"])
        created = _sec(row["createdate"])
        # "Pipedrive deals are those listed by /api/v2/deals with status open, won or lost;
        # archived (/api/v2/deals/archived) and deleted (status=deleted, is_deleted) deals are excluded."
        excluded = status == "deleted" or bool(row["archived"])
        deals.append(
            {
                "source": SOURCE,
                "source_deal_id": did,
                "deal_name": row["dealname"],  # "`deal_name` = `title`"
                "pipeline_id": str(pipeline),
                "stage_id": str(held),
                # "Pipedrive stores 0 when no value was entered, so a Pipedrive amount is never null"
                "amount": float(row["amount"]) if row["amount"] not in (None, "") else 0.0,
                "currency_code": row["deal_currency_code"],
                "created_at": created,
                "close_date": None if row["closedate"] is None else _day(row["closedate"]),
                "owner_id": row["hubspot_owner_id"],
                "archived": excluded,
            }
        )
        flow = [
            {
                "id": c.id,
                "field_key": c.field_key,
                "old_value": c.old_value,
                "new_value": c.new_value,
                "log_time": _sec(c.ts_ms),
            }
            for c in changes
        ]
        entries = stage_entries(did, str(held), flow, pipeline_of)
        # the quarantine judges every stage or status entry of the flow, not only visit starts
        entry_times[deal_key(SOURCE, did)] = [c["log_time"] for c in flow if c["field_key"] in ("stage_id", "status")]
        entries[0]["changed_at"] = created
        history.extend(entries)
        extra = extras.get(row["id"])
        # the deal's own Source channel ("the option of the deal field `channel`"), as a label
        deal_channels.append(
            {"source": SOURCE, "source_deal_id": did, "channel": labels.get(extra["channel"]) if extra else None}
        )
        if not excluded and extra is not None and extra["source_lead_id"]:
            live_lead_deals.append((extra["source_lead_id"], created, extra["channel"], did))
        if row["id"] in person_of:  # "primary_contact_id = person_id when that person is live"
            links.append({"source": SOURCE, "source_deal_id": did, "source_contact_id": str(person_of[row["id"]])})

    persons = [
        {"source": SOURCE, "source_contact_id": str(r["id"]), "created_at": _sec(r["createdate"]), "archived": False}
        for r in conn.execute("SELECT id, createdate FROM contacts WHERE archived = 0")
    ]
    # "(a) a lead listed by /v1/leads (not archived ...)"
    leads: dict[str, Row] = {
        r["id"]: {
            "source": SOURCE,
            "source_contact_id": r["id"],
            "created_at": int(r["add_time"]),
            "channel": labels.get(r["channel"]),
        }
        for r in conn.execute("SELECT * FROM pd_leads WHERE still_listed = 1 AND is_archived = 0")
    }
    # "(b) a converted lead: the source_lead_id ... of a live deal. An id that is both counts
    # once, as (a)." "(b) the UTC day of the converting deal's add_time"; "(for (b) the deal's channel)"
    for lead_id, created, channel, _did in sorted(live_lead_deals, key=lambda t: (t[1], t[3])):
        leads.setdefault(
            lead_id,
            {"source": SOURCE, "source_contact_id": lead_id, "created_at": created, "channel": labels.get(channel)},
        )
    lead_links = [
        {"source": SOURCE, "source_deal_id": did, "source_contact_id": lead_id}
        for lead_id, _created, _channel, did in live_lead_deals
    ]
    return without_quarantined(
        {
            "deals": deals,
            "contacts": persons,
            "stage_history": history,
            "deal_contacts": links,
            "leads": list(leads.values()),
            "lead_links": lead_links,
            "deal_channels": deal_channels,
            "stage_entry_times": entry_times,
        }
    )


def _day(ms: int) -> date:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(int(ms) / 1000, UTC).date()


def pipedrive_marts_from_truth(
    sandbox: Path | str, *, as_of_date: date, seeds_dir: Path | str, reporting_currency: str = "USD"
) -> dict[str, list[Row]]:
    """The contracted marts' Pipedrive rows for the sandbox file and the seeds in ``seeds_dir``."""
    inputs = pipedrive_inputs(sandbox)
    return marts_of_inputs(
        inputs,
        as_of_date=as_of_date,
        seeds_dir=seeds_dir,
        reporting_currency=reporting_currency,
        leads=inputs["leads"],
        lead_links=inputs["lead_links"],
    )
