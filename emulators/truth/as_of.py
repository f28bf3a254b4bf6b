"""What a deal looked like at the end of a day, from its property histories.

The end of day D is D + 1 day at 00:00 UTC, exclusive. A property's value then is that of its
newest history entry dated before that instant (equal times: the larger ``seq`` is newer, as
HubSpot's order has it); an empty string is no value. A property with history but no entry
before the instant had no value yet; one with no history at all only has its current value.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from emulators.truth import store

NO_HISTORY = "latest"
HISTORY = "history"


def end_of_day_ms(day: date) -> int:
    """``end(D)``: the next midnight UTC after ``day``, as epoch ms (exclusive)."""
    return store.date_to_ms(day + timedelta(days=1))


def value_at(entries: Iterable[tuple[int, int, str | None]], instant_ms: int, current: str | None = None):
    """(value, basis) of a property at ``instant_ms`` from ``(timestamp_ms, seq, value)`` entries.

    basis is ``'history'`` when there are entries (value None when none is before the instant)
    and ``'latest'`` with ``current`` when there are none.
    """
    entries = list(entries)
    if not entries:
        return (current if current != "" else None), NO_HISTORY
    before = [e for e in entries if e[0] < instant_ms]
    if not before:
        return None, HISTORY
    value = max(before, key=lambda e: (e[0], e[1]))[2]
    return (value if value != "" else None), HISTORY


def deal_on(truth, deal_id: str, day: date) -> dict | None:
    """The state of one deal of a :class:`GroundTruth` at the end of ``day`` (None if it did not
    exist yet): stage (and whether it is closed), amount, currency and close date (ISO text)."""
    deals = truth.deals()
    row = deals[deals["id"] == str(deal_id)]
    if row.empty:
        return None
    deal = row.iloc[0]
    end = end_of_day_ms(day)
    if int(deal["createdate_ms"]) >= end:
        return None
    out: dict = {"deal_id": str(deal_id), "archived": bool(deal["archived"])}
    stages = truth.property_history("dealstage")
    mine = stages[stages["deal_id"] == str(deal_id)]
    stage, _ = value_at(zip(mine["timestamp_ms"], mine["seq"], mine["value"], strict=False), end)
    if stage is None:  # created before its first entry: the oldest entry's stage
        stage = mine.sort_values(["timestamp_ms", "seq"]).iloc[0]["value"] if len(mine) else deal["dealstage"]
    out["stage_id"] = stage
    pipeline, stage_def = store.STAGE_INDEX[stage]
    out["pipeline_id"], out["is_closed"], out["probability"] = pipeline.id, stage_def.is_closed, stage_def.probability
    for prop, col in (("amount", "amount"), ("deal_currency_code", "currency"), ("closedate", "closedate")):
        h = truth.property_history(prop)
        h = h[h["deal_id"] == str(deal_id)]
        value, basis = value_at(zip(h["timestamp_ms"], h["seq"], h["value"], strict=False), end, deal[col])
        out[col] = value
        if prop == "amount":
            out["amount_basis"] = basis
    return out
