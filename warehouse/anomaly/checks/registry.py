"""The registry of funnel anomaly checks, in the order they run and are reported."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import duckdb

from warehouse.anomaly.checks import (
    burst,
    conversion,
    dwell,
    freshness,
    lead_volume,
    structure,
    stuck,
    transitions,
    won_amounts,
)
from warehouse.anomaly.checks.base import CheckOutcome, CheckSpec

CHECKS: dict[str, CheckSpec] = {
    spec.name: spec
    for spec in (
        conversion.SPEC,
        lead_volume.SPEC,
        dwell.SPEC,
        stuck.SPEC,
        transitions.SKIP_SPEC,
        transitions.REGRESSION_SPEC,
        burst.BURST_SPEC,
        won_amounts.SPEC,
        freshness.SPEC,
        structure.SPEC,
    )
}


def run_check(con: duckdb.DuckDBPyConnection, as_of_date: date, name: str) -> CheckOutcome:
    spec = CHECKS[name]
    try:
        return spec.fn(con, as_of_date)
    except Exception as exc:  # a check that cannot run is reported, never silently passed
        return CheckOutcome(
            spec.name,
            spec.asset,
            spec.severity,
            False,
            f"{spec.description} Could not run: {type(exc).__name__}: {exc}",
            {"error": f"{type(exc).__name__}: {exc}"},
        )


def run_all(con: duckdb.DuckDBPyConnection, as_of_date: date, names: Iterable[str] | None = None) -> list[CheckOutcome]:
    """Run every registered check (or ``names``) as of ``as_of_date``, in registry order."""
    wanted = list(CHECKS) if names is None else list(names)
    return [run_check(con, as_of_date, name) for name in wanted]
