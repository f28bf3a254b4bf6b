"""The owner scan of `stuck_deals`: the span's count owner by owner, for a batch whose cause is
one person's (or one team's) deals: a rep who left, a book nobody took over, an integration that
stopped moving the deals assigned to one user (docs/checks.md#stuck_deals).

The owner is the deal's current ``owner_id`` on ``marts.fct_deals`` (the owner a manager would
call); a deal without one (or without a ``fct_deals`` row) is its own segment, NO_OWNER."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np

from warehouse.anomaly.checks.stuck_count import Span, span_count_test
from warehouse.anomaly.checks.visits import Visits
from warehouse.anomaly.thresholds import SAMPLE_SIZE

OWNERS_RELATION = "marts.fct_deals"
NO_OWNER = "(no owner)"
"""The segment of the deals with no owner (null ``owner_id``, or no ``fct_deals`` row)."""


def load_owners(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """deal_id → owner_id of every deal in ``marts.fct_deals`` (NO_OWNER when null)."""
    rows = con.execute(f"select deal_id, owner_id from {OWNERS_RELATION}").fetchall()
    return {str(d): NO_OWNER if o is None or o == "" else str(o) for d, o in rows}


def owners_of(deal_ids: np.ndarray, owners: dict[str, str]) -> np.ndarray:
    """Each deal's owner (NO_OWNER for a deal the mapping does not know)."""
    return np.array([owners.get(str(d), NO_OWNER) for d in deal_ids], dtype=object)


def owner_tests(sp: Span, owner: np.ndarray) -> dict[str, dict[str, Any]]:
    """The span's count per owner (``owner``: one per span entry): each owner's entries still
    open against their own expectation (`span_count_test` with the half-count prior and the
    support rule). Under a common survival the owners' expectations add up to the span's, so a
    rep's frozen book shows as that rep's count far above theirs while the step's total moves
    little. ``open_mask`` (not metadata) marks the owner's still-open entries."""
    out: dict[str, dict[str, Any]] = {}
    for o in sorted(set(owner.tolist())):
        sel = owner == o
        res = span_count_test(sp, sel, prior=True)
        res["open_mask"] = sel & np.isinf(sp.dwell)
        out[o] = res
    return out


def owner_findings(
    v: Visits, sp: Span, step: str, age: float, owners: dict[str, str], window: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """The owner tests of one step, keyed ``step:owner <id>``, with ``owner_id``, the entry span
    (``entered_from``/``entered_to`` in ``window``) and the ids of the owner's still-open entries
    (oldest first, up to SAMPLE_SIZE)."""
    ids, entered = v.deal_id[sp.mask], v.entered[sp.mask]
    out: dict[str, dict[str, Any]] = {}
    for o, res in owner_tests(sp, owners_of(ids, owners)).items():
        key = f"{step}:owner {o}"
        sel = res.pop("open_mask")
        out[key] = {"segment": key, "owner_id": o, **window, **res, "stuck_after_days": age}
        out[key]["sample_ids"] = [str(d) for d in ids[sel][np.argsort(entered[sel])][:SAMPLE_SIZE]]
    return out
