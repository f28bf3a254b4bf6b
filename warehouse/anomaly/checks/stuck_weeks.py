"""The entry-week scan of `stuck_deals`: the span's count entry week by entry week, for a batch
moved into a step together (an import, a bulk edit) and left there (docs/checks.md#stuck_deals)."""

from __future__ import annotations

from typing import Any

import numpy as np

from warehouse.anomaly.checks.stuck_count import Span, span_count_test
from warehouse.anomaly.checks.visits import Visits, to_datetime
from warehouse.anomaly.thresholds import SAMPLE_SIZE, STUCK_WINDOW_DAYS

ENTRY_WEEK_DAYS = 7.0
"""The entry-week scan: the span's entries week by week (a batch moved into the step together)."""


def entry_week_tests(sp: Span, age: float, end: float, window_days: float) -> list[dict[str, Any]]:
    """The same count, entry week by entry week of the span (the first: the entries that became
    stuck in the last 7 days): a batch moved into the step together (an import, a bulk edit) and left
    there shows as one week of entries that all stayed, long before it moves the 8-week count.
    Each week is tested against its own entries' expectation; ``entered_from``/``entered_to``
    (ISO dates) name the week."""
    out = []
    for k in range(int(window_days // ENTRY_WEEK_DAYS)):
        a_lo, a_hi = age + ENTRY_WEEK_DAYS * k, age + ENTRY_WEEK_DAYS * (k + 1)
        sel = (sp.ages > a_lo) & (sp.ages <= a_hi)
        res = span_count_test(sp, sel, prior=True)
        res["open_in_week"] = sel & np.isinf(sp.dwell)  # which of the span's entries (not metadata)
        res["entered_from"] = to_datetime(end - a_hi).date().isoformat()
        res["entered_to"] = to_datetime(end - a_lo).date().isoformat()
        out.append(res)
    return out


def week_findings(
    v: Visits, sp: Span, step: str, age: float, end: float, window: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """The entry-week tests of one step, keyed ``step:entry week k`` (1: the newest; its dates in
    ``entered_from``/``entered_to``), with the ids of its still-open entries (oldest first)."""
    out: dict[str, dict[str, Any]] = {}
    ids, entered = v.deal_id[sp.mask], v.entered[sp.mask]
    for res in entry_week_tests(sp, age, end, STUCK_WINDOW_DAYS):
        key = f"{step}:entry week {len(out) + 1}"
        sel = res.pop("open_in_week")
        out[key] = {"segment": key, **window, **res, "stuck_after_days": age}
        out[key]["sample_ids"] = [str(d) for d in ids[sel][np.argsort(entered[sel])][:SAMPLE_SIZE]]
    return out
