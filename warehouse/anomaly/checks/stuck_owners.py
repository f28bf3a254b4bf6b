"""The owner scan of `stuck_deals`: the span's count owner by owner, for a batch whose cause is
one person's (or one team's) deals: a rep who left, a book nobody took over, an integration that
stopped moving the deals assigned to one user (docs/checks.md#stuck_deals).

The owner is the deal's current ``owner_id`` on ``marts.fct_deals`` (the owner a manager would
call); a deal without one (or without a ``fct_deals`` row) is its own segment, NO_OWNER."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from warehouse.anomaly.checks.stuck_count import Span, span_count_test
from warehouse.anomaly.checks.visits import Visits
from warehouse.anomaly.thresholds import SAMPLE_SIZE

OWNERS_RELATION = "marts.fct_deals"
NO_OWNER = "(no owner)"
"""The segment of the deals with no owner (null ``owner_id``, or no ``fct_deals`` row)."""


def owners_of(con: duckdb.DuckDBPyConnection, deal_ids: np.ndarray) -> np.ndarray:
    """Each deal's ``owner_id`` in ``marts.fct_deals`` (NO_OWNER when null, empty or not there),
    in the order given: one join in DuckDB (hashing a span's tens of thousands of ids in Python
    would cost more than the statistics)."""
    if not len(deal_ids):
        return np.array([], dtype=object)
    ids = pa.table({"pos": np.arange(len(deal_ids)), "deal_id": pa.array(deal_ids.tolist(), type=pa.string())})
    con.register("_stuck_deal_ids", ids)
    try:
        res = con.execute(
            f"select coalesce(nullif(d.owner_id, ''), '{NO_OWNER}') as owner_id from _stuck_deal_ids i "
            f"left join {OWNERS_RELATION} d on d.deal_id = i.deal_id order by i.pos"
        ).fetchnumpy()
    finally:
        con.unregister("_stuck_deal_ids")
    return np.asarray(res["owner_id"], dtype=object)


def owner_tests(sp: Span, owner: np.ndarray) -> dict[str, dict[str, Any]]:
    """The span's count per owner (``owner``: one per span entry): each owner's entries still
    open against their own expectation (`span_count_test` with the half-count prior and the
    support rule). Under a common survival the owners' expectations add up to the span's, so a
    rep's frozen book shows as that rep's count far above theirs while the step's total moves
    little. ``open_mask`` (not metadata) marks the owner's still-open entries."""
    out: dict[str, dict[str, Any]] = {}
    names, codes = np.unique(owner.astype(str), return_inverse=True)
    for i, o in enumerate(names.tolist()):
        sel = codes == i
        res = span_count_test(sp, sel, prior=True)
        res["open_mask"] = sel & np.isinf(sp.dwell)
        out[o] = res
    return out


def owner_findings(
    v: Visits, sp: Span, step: str, age: float, owner: np.ndarray, window: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """The owner tests of one step (``owner``: `owners_of` the span's entries), keyed
    ``step:owner <id>``, with ``owner_id``, the entry span
    (``entered_from``/``entered_to`` in ``window``) and the ids of the owner's still-open entries
    (oldest first, up to SAMPLE_SIZE)."""
    ids, entered = v.deal_id[sp.mask], v.entered[sp.mask]
    out: dict[str, dict[str, Any]] = {}
    for o, res in owner_tests(sp, owner).items():
        key = f"{step}:owner {o}"
        sel = res.pop("open_mask")
        out[key] = {"segment": key, "owner_id": o, **window, **res, "stuck_after_days": age}
        out[key]["sample_ids"] = [str(d) for d in ids[sel][np.argsort(entered[sel])][:SAMPLE_SIZE]]
    return out
