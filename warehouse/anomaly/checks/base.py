"""What every check shares: its spec and outcome, the reader of the metric table (the only SQL
on `metrics.metric_funnel_history`), sample-id queries and the rounding of reported numbers."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

import duckdb

from warehouse.anomaly import exact
from warehouse.anomaly.thresholds import MIN_N, MIN_RELATIVE_CHANGE, NOT_ENOUGH_DATA, SAMPLE_SIZE, Z_THRESHOLD
from warehouse.engines.reads import ReadSet

METRICS_TABLE = "metrics.metric_funnel_history"


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    asset: str
    """The dbt model the check is about (or ``<raw schema>.<table>`` for raw-load freshness)."""
    severity: str
    """'WARN' or 'ERROR'."""
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


CheckFn = Callable[[duckdb.DuckDBPyConnection, date], CheckOutcome]


@dataclass(frozen=True)
class CheckSpec:
    name: str
    asset: str
    severity: str
    description: str
    fn: CheckFn


@dataclass(frozen=True)
class Bucket:
    index: int
    start: date
    end: date
    value: float | None
    numerator: float | None
    denominator: float | None
    n: int
    mad: float | None
    p90: float | None
    complete: bool


Series = dict[int, Bucket]
"""One segment's buckets by bucket_index (0 = newest)."""


class MetricHistoryMismatch(RuntimeError):
    """The metric table was built for another as_of_date than the one asked for."""


def load_history(con: duckdb.DuckDBPyConnection, metric: str, as_of_date: date) -> dict[str, Series]:
    """{segment: {bucket_index: Bucket}} of one metric; checks the table's as_of_date."""
    rows = con.execute(
        f"select segment, bucket_index, period_start, period_end, value, numerator, denominator, n, mad, p90, "
        f"is_complete, as_of_date from {METRICS_TABLE} where metric = ? order by segment, bucket_index",
        [metric],
    ).fetchall()
    out: dict[str, Series] = {}
    for seg, idx, start, end, value, num, den, n, mad, p90, complete, built_for in rows:
        if built_for != as_of_date:
            raise MetricHistoryMismatch(
                f"{METRICS_TABLE} was built for as_of_date {built_for}, not {as_of_date}: rebuild it "
                f"(dbt build --vars '{{as_of_date: \"{as_of_date}\"}}') before running the checks"
            )
        out.setdefault(seg, {})[idx] = Bucket(idx, start, end, value, num, den, int(n or 0), mad, p90, bool(complete))
    return out


def window(buckets: Sequence[Bucket]) -> dict[str, str]:
    return {
        "window_start": min(b.start for b in buckets).isoformat(),
        "window_end": max(b.end for b in buckets).isoformat(),
    }


def r(x: float | None, digits: int = 4) -> float | None:
    """A reported number: rounded; None stays None, NaN becomes None, ±inf stays."""
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return None if x is None or math.isnan(x) else (math.inf if x > 0 else -math.inf)
    return round(float(x), digits)


def outcome(
    spec: CheckSpec, findings: dict[str, dict[str, Any]], flagged: list[str], headline: str, **extra: Any
) -> CheckOutcome:
    passed = not flagged
    description = spec.description + (" " + headline if headline else "")
    metadata: dict[str, Any] = {"flagged_segments": flagged, "segments": findings, **extra}
    metadata["thresholds"] = {"z": Z_THRESHOLD, "min_relative_change": MIN_RELATIVE_CHANGE, "min_n": MIN_N}
    return CheckOutcome(spec.name, spec.asset, spec.severity, passed, description, metadata)


def sample(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[str]:
    """The first SAMPLE_SIZE ids of a query (for a person to look at)."""
    return [row[0] for row in con.execute(sql + f" limit {SAMPLE_SIZE}", params).fetchall()]


def ts(d: date) -> datetime:
    """Midnight UTC starting day ``d`` (naive, like the warehouse's timestamps)."""
    return datetime(d.year, d.month, d.day)


def num(x: float | None) -> float:
    """A bucket's numerator/denominator/value where null means nothing happened (0)."""
    return x or 0.0


def known(x: float | None) -> float:
    """A value the caller has already filtered to be present (dwell medians, MADs)."""
    if x is None:
        raise ValueError("a filtered bucket value is missing")
    return x


# ------------------------------------------------------------------ exact tests with a false-alarm budget

RELATIONS_READ: tuple[str, ...] = (
    METRICS_TABLE,
    "marts.fct_deal_stage_history",
    "marts.mart_lead_volume_daily",
    "marts.fct_deals",
    "intermediate.int_leads_unioned",
    "intermediate.int_deal_contacts_unioned",
    "intermediate.int_deal_stage_changes_unioned",
    "intermediate.int_deal_stage_visits_collapsed",
    "staging.stg_hubspot__deal_property_changes",
)
"""Every relation a check reads (plus the raw tables' ``_loaded_at`` for freshness). The
exposure-based funnel checks read only ``marts.fct_deal_stage_history`` and
``marts.mart_lead_volume_daily``; an engine that hands the checks a connection only needs these."""

CHECK_READS = ReadSet.of((*RELATIONS_READ, "raw_*.*"), {"raw_*.*": ("_loaded_at",)})
"""What the checks copy from PostgreSQL or Spark: those relations, and of the raw tables only
``_loaded_at`` (``raw_load_freshness`` reads its maximum)."""


def decide_family(tests: dict[str, dict[str, Any]], alpha: float) -> list[str]:
    """Decide a family of segment tests in place; returns the flagged keys, strongest first.

    Multiplicity: the step-down Holm for discrete tests (`exact.discrete_holm`, Tarone's idea
    carried through every step). A test's attainable-level function F(t) = P(p ≤ t) under the
    null is its ``attainable`` callable when it has one (exact counts: the p-values it can
    actually produce), else 0 below its power floor ``min_p`` (the p of the most extreme possible
    window) and t above it. A segment that could not reach the budget even at its most extreme
    outcome, Σ_j F_j(min_p) > alpha, is untestable: status NOT_ENOUGH_DATA (the check says so
    instead of passing silently); it adds nothing to the others' sums at the p-values that
    matter, so it does not spend the family's budget. The others get their adjusted
    ``p_adjusted`` ('flagged' when ≤ alpha, else 'ok')."""
    keys = list(tests)
    funcs: list[exact.Attainable] = [_attainable(tests[k]) for k in keys]
    adjusted = exact.discrete_holm([float(tests[k].get("p", 1.0)) for k in keys], funcs)
    no_power = {k for k in keys if sum(f(float(tests[k].get("min_p", 0.0))) for f in funcs) > alpha}
    for k, adj in zip(keys, adjusted, strict=True):
        t = tests[k]
        t.pop("attainable", None)
        t["family_size"] = len(keys) - len(no_power)
        if k in no_power:
            t["status"], t["p_adjusted"] = NOT_ENOUGH_DATA, None
        else:
            t["p_adjusted"] = adj
            t["status"] = "flagged" if adj <= alpha else "ok"
        t["flagged"] = t["status"] == "flagged"
    return sorted((k for k in tests if tests[k]["flagged"]), key=lambda k: tests[k]["p"])


def _attainable(test: dict[str, Any]) -> exact.Attainable:
    given = test.get("attainable")
    if given is not None:
        return cast(exact.Attainable, given)
    floor = float(test.get("min_p", 0.0))
    return lambda t: t if t >= floor else 0.0


_P_KEYS = frozenset({"p", "p_adjusted", "min_p"})


def _reported(key: str, value: Any) -> Any:
    """A metadata number: p-values keep 3 significant digits (a p of 1e-11 must not read 0), the
    rest 6 decimals."""
    if not isinstance(value, float):
        return value
    if key in _P_KEYS and math.isfinite(value) and value != 0:
        return float(f"{value:.3g}")
    return r(value, 6)


def exact_outcome(
    spec: CheckSpec, findings: dict[str, dict[str, Any]], flagged: list[str], headline: str, alpha: float
) -> CheckOutcome:
    """The outcome of an exact-test check: the description names the flagged segments and the
    segments without power ("not enough data: …"); metadata rounds every reported number."""
    no_power = [k for k, v in findings.items() if v.get("status") == NOT_ENOUGH_DATA]
    status = "flagged" if flagged else (NOT_ENOUGH_DATA if findings and len(no_power) == len(findings) else "ok")
    parts = [spec.description]
    if headline:
        parts.append(headline)
    if no_power:
        parts.append(f"Not enough data to test: {', '.join(no_power)}.")
    clean = {k: {kk: _reported(kk, vv) for kk, vv in v.items()} for k, v in findings.items()}
    metadata: dict[str, Any] = {
        "status": status,
        "flagged_segments": flagged,
        "not_enough_data": no_power,
        "segments": clean,
        "alpha": alpha,
        "multiplicity": "holm (discrete, Tarone)",
    }
    return CheckOutcome(spec.name, spec.asset, spec.severity, not flagged, " ".join(parts), metadata)
