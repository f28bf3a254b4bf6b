"""Funnel anomaly checks: plain functions ``(con, as_of_date) -> CheckOutcome``.

Each check reads the small metric table ``metrics.metric_funnel_history`` (built by dbt as of
``as_of_date``; see ``dbt_project/models/metrics/`` and docs/metrics.md#metric-history), plus a
few small, filtered queries on the marts for the deal ids a person needs, and decides with
:mod:`warehouse.anomaly.stats`.

- ``base``: spec, outcome, the metric-table reader (``load_history``), sample queries;
- ``decide``: the pure decisions the checks share (proportions, same-weekday counts, medians);
- one module per check family: ``conversion``, ``lead_volume``, ``dwell``, ``stuck``,
  ``transitions``, ``won_amounts``, ``freshness``, ``structure``;
- ``registry``: ``CHECKS``, ``run_check``, ``run_all``. Thresholds: ``warehouse.anomaly.thresholds``.

Rates that are normal in real data (missing amounts, stuck deals, skips, regressions) are
compared with their own baseline, never with zero. Statistical surprises are WARN; only
`structural_integrity` (which mirrors the blocking dbt tests for callers outside Dagster) is
ERROR. A check that cannot run (a missing table, say) comes back as a failed outcome naming the
error instead of raising.
"""

from warehouse.anomaly.checks.base import (
    CHECK_READS,
    Bucket,
    CheckOutcome,
    CheckSpec,
    MetricHistoryMismatch,
    load_history,
)
from warehouse.anomaly.checks.registry import CHECKS, run_all, run_check

__all__ = [
    "CHECKS",
    "CHECK_READS",
    "Bucket",
    "CheckOutcome",
    "CheckSpec",
    "MetricHistoryMismatch",
    "load_history",
    "run_all",
    "run_check",
]
