"""Independent reference for the quarantine (docs/metrics.md, "Quarantine"), from the ground truth.

"A fault in one record (a stage-history entry earlier than its deal's creation or later than
the moment it was loaded ...) quarantines that record's deal: it is left out of every mart and
listed in `marts.quarantined_records` — one row per (source, `source_record_id`, rule)."

The input builders of the CRM references (:func:`tests.reference.funnel.hubspot_inputs`,
:func:`tests.reference.pipedrive.pipedrive_inputs`) call :func:`drop_quarantined`, so every
reference built on them (funnel, pipeline over time, forecast, ROI) leaves those deals out, as
the marts must. Written from the definitions, not from the SQL.

The load moment: the reference does not see the warehouse, so "later than the moment it was
loaded" is judged against ``loaded_by``, an instant no load is later than (the caller's clock
by default: the reference is computed after the sync). Sound as long as no entry falls within
the hour of clock skew around the test run, which the sandbox never produces (its histories end
on its end date; corruptions are years away).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.reference.funnel import Row, as_of_instant, deal_key, is_live, to_utc

BEFORE_CREATION = "stage_change_before_deal_creation"
AFTER_LOAD = "stage_change_after_load"
RULES = (BEFORE_CREATION, AFTER_LOAD)
CLOCK_SKEW = timedelta(hours=1)  # "plus 1 hour for clock skew between the CRM and us"


def deal_faults(created_at: Any, entry_times: Iterable[Any], loaded_by: datetime) -> list[str]:
    """The rules one deal breaks, given every stage-history entry time the CRM sent for it."""
    created, loaded_by = to_utc(created_at), to_utc(loaded_by)
    times = [to_utc(t) for t in entry_times]
    rules = []
    if any(t < created for t in times):
        rules.append(BEFORE_CREATION)
    if any(t > loaded_by + CLOCK_SKEW for t in times):
        rules.append(AFTER_LOAD)
    return rules


def quarantine_rows(
    deals: Iterable[Mapping[str, Any]],
    entry_times: Mapping[str, list[Any]],
    *,
    loaded_by: datetime | None = None,
    as_of_date: date | None = None,
) -> list[Row]:
    """Rows of `marts.quarantined_records` (without `detail`) for ``deals`` (generic deal dicts);
    ``entry_times``: deal key -> every stage-history entry time as sent. With ``as_of_date``,
    only the deals the marts would show (live, created before `as_of`) are listed."""
    loaded_by = to_utc(loaded_by or datetime.now(UTC))
    as_of = as_of_instant(as_of_date) if as_of_date else None
    rows = []
    for d in deals:
        if as_of is not None and not (is_live(d) and to_utc(d["created_at"]) < as_of):
            continue
        key = deal_key(d["source"], d["source_deal_id"])
        for rule in deal_faults(d["created_at"], entry_times.get(key, []), loaded_by):
            rows.append(
                {
                    "source": d["source"],
                    "entity": "deal",
                    "source_record_id": str(d["source_deal_id"]),
                    "deal_id": key,
                    "rule": rule,
                }
            )
    return rows


def drop_quarantined(inputs: dict[str, list[Row]], quarantined: set[str]) -> dict[str, list[Row]]:
    """The generic inputs without the quarantined deals (their rows in every deal-keyed list:
    deals, stage history, associations, lead links, deal channels). Leads and contacts stay:
    the faulty record is the deal; its lead simply does not advance through it."""
    deal_keyed = ("deals", "stage_history", "deal_contacts", "lead_links", "deal_channels")
    out = dict(inputs)
    for name in deal_keyed:
        if name in inputs:
            out[name] = [r for r in inputs[name] if deal_key(r["source"], r["source_deal_id"]) not in quarantined]
    return out
