"""Realistic change histories of a deal's amount, close date and currency.

Called once per generated deal (a hook in :mod:`emulators.truth.generator`), after the deal's
stage history is drawn. It draws from its **own** random stream (seeded by the sandbox seed and
the deal id), so the main stream, and with it every other row of the sandbox, is unchanged.

It only adds or moves entries *before* each property's latest entry, so the deal's current
values (``amount``, ``deal_currency_code``, ``closedate``) stay what the generator chose:

- an amount entered days after creation (the deal is created blank, sometimes with an explicit
  empty string first), revised while the deal is open, or fixed minutes after a typo (two
  changes on one day; rarely two at the same millisecond, where the API's order decides);
- a close date that slips: the first expected date passes while the deal is open (overdue),
  then the rep pushes it out; a close date first set days after creation;
- a currency corrected shortly after creation.

Every timestamp stays at or after the deal's creation and before the end of the period (or
its archiving), and ``hs_lastmodifieddate`` covers the new entries.
"""

from __future__ import annotations

import math
import random

from core.epoch import DAY_MS
from emulators.truth import store

P_AMOUNT_LATE = 0.25  # the amount is entered days after creation
P_AMOUNT_BLANK_FIRST = 0.3  # ... of those: an explicit "" entry at creation first
P_AMOUNT_REVISION = 0.2  # an extra revision while the deal is open
P_AMOUNT_TYPO = 0.05  # a wrong value fixed minutes later (two changes on one day)
P_SAME_MS = 0.25  # ... and sometimes both at the same millisecond (the API order decides)
P_SLIP = 0.5  # an expected close date that passes while open is pushed out
P_CLOSEDATE_LATE = 0.3  # a deal created without a close date gets one days later
P_CURRENCY_FIX = 0.03  # the currency is corrected shortly after creation

# deals row positions (emulators.truth.store `deals` column order)
_CREATED, _LASTMOD, _ARCHIVED, _ARCHIVED_AT = 3, 4, 14, 15
# deal_history row positions
_PROP, _SEQ, _VALUE, _TS = 1, 2, 3, 4


def _days(rng: random.Random, median: float, sigma: float = 0.8) -> int:
    return max(60_000, int(rng.lognormvariate(math.log(median), sigma) * DAY_MS))


def _amount_text(value: float) -> str:
    step = 10 if value < 1000 else 100
    return str(max(step, round(value / step) * step))


def first_close_ms(hist: list[tuple]) -> int | None:
    """When the deal first entered a closed stage (None while it never did)."""
    closes = [h[_TS] for h in hist if h[_PROP] == "dealstage" and store.STAGE_INDEX[h[_VALUE]][1].is_closed]
    return min(closes) if closes else None


def enrich_deal_history(seed: int, row: list, hist: list[tuple], end_ms: int) -> list[tuple]:
    """Return ``hist`` with richer amount / closedate / currency histories; updates ``row``'s
    last-modified time in place. ``row`` is a ``deals`` row, ``hist`` its ``deal_history`` rows."""
    deal_id, created = row[0], row[_CREATED]
    rng = random.Random(seed * 1_000_000_007 + deal_id)
    limit = row[_ARCHIVED_AT] if row[_ARCHIVED] else end_ms
    closed = first_close_ms(hist)
    open_until = min(limit, closed) if closed is not None else limit
    by_prop: dict[str, list[list]] = {}
    for h in hist:
        by_prop.setdefault(h[_PROP], []).append(list(h))
    src = tuple(hist[0][5:8])

    amounts = by_prop.get("amount")
    if amounts:
        _amount_history(rng, amounts, created, open_until, src)
    closes = by_prop.get("closedate")
    if closes is not None or closed is not None:
        by_prop["closedate"] = _closedate_history(rng, closes or [], deal_id, created, closed, open_until, src)
    currencies = by_prop.get("deal_currency_code")
    if currencies and len(currencies) == 1 and rng.random() < P_CURRENCY_FIX:
        t = created + _days(rng, 1.0)
        if t < open_until:
            final = currencies[0][_VALUE]
            other = rng.choice([c for c in store.CURRENCIES if c != final])
            currencies.insert(0, [deal_id, "deal_currency_code", 0, other, created, *src])
            currencies[1][_TS] = t

    out: list[tuple] = []
    for _prop, entries in by_prop.items():
        entries.sort(key=lambda e: e[_TS])  # stable: equal times keep the list's order
        for seq, e in enumerate(entries):
            e[_SEQ] = seq
            out.append(tuple(e))
    newest = max(h[_TS] for h in out)
    row[_LASTMOD] = max(row[_LASTMOD], newest)
    return out


def _amount_history(rng: random.Random, entries: list[list], created: int, open_until: int, src: tuple) -> None:
    """Move the first amount later, add revisions and typo fixes; the last value is kept."""
    deal_id = entries[0][0]
    if rng.random() < P_AMOUNT_LATE:
        nxt = entries[1][_TS] if len(entries) > 1 else open_until
        t = created + _days(rng, 3.0)
        if t >= nxt:
            t = created + (nxt - created) // 2
        if created < t < nxt:
            entries[0][_TS] = t
            if rng.random() < P_AMOUNT_BLANK_FIRST:
                entries.insert(0, [deal_id, "amount", 0, "", created, *src])
    last = entries[-1]
    base = float(last[_VALUE]) if last[_VALUE] else 5000.0
    start = entries[0][_TS]
    if rng.random() < P_AMOUNT_REVISION and last[_TS] - start > 2:
        t = rng.randint(start + 1, last[_TS] - 1)  # before the last entry: the final value stays
        entries.append([deal_id, "amount", 0, _amount_text(base * rng.uniform(0.6, 1.5)), t, *src])
    if rng.random() < P_AMOUNT_TYPO:
        k = rng.randrange(len(entries))
        e = entries[k]
        if e[_VALUE]:
            gap = 0 if rng.random() < P_SAME_MS else rng.randint(60_000, 20 * 60_000)
            fixed_at = e[_TS] + gap
            following = [x[_TS] for x in entries if x[_TS] > e[_TS]]
            if fixed_at < min([*following, open_until + 1]) and (e[_TS] // DAY_MS) == (fixed_at // DAY_MS):
                typo = [deal_id, "amount", 0, e[_VALUE] + "0", e[_TS], *src]
                e[_TS] = fixed_at
                entries.insert(k, typo)  # same time: the typo is older in the API's order


def _closedate_history(
    rng: random.Random,
    entries: list[list],
    deal_id: int,
    created: int,
    closed: int | None,
    open_until: int,
    src: tuple,
) -> list[list]:
    """Slipping expected dates while the deal is open; the last value is kept."""
    expected = [e for e in entries if store.iso_to_ms(e[_VALUE]) != e[_TS] or e[_TS] == created]
    at_close = [e for e in entries if e not in expected]
    if not expected and closed is not None and rng.random() < P_CLOSEDATE_LATE:
        t = created + _days(rng, 5.0)
        if t < open_until:
            expected = [[deal_id, "closedate", 0, store.ms_to_iso(t + _days(rng, 30.0, 0.5)), t, *src]]
    if not expected:
        return entries
    if closed is not None:
        # push the date out each time it passes while the deal is still open
        for _ in range(3):
            due = store.iso_to_ms(expected[-1][_VALUE])
            t = due + _days(rng, 2.0)
            if t >= open_until or rng.random() >= P_SLIP:
                break
            expected.append([deal_id, "closedate", 0, store.ms_to_iso(t + _days(rng, 20.0, 0.6)), t, *src])
        return expected + at_close
    # open deal: the latest value F stays; an earlier date that passed first, then F
    final = expected[-1]
    f_ms = store.iso_to_ms(final[_VALUE])
    if len(expected) == 1 and final[_TS] == created and f_ms > created and rng.random() < P_SLIP:
        first_due = created + int((f_ms - created) * rng.uniform(0.3, 0.7))
        t = first_due + _days(rng, 3.0)
        if t < open_until:
            return [[deal_id, "closedate", 0, store.ms_to_iso(first_due), created, *src], [*final[:_TS], t, *final[5:]]]
    return entries
