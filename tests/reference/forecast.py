"""Independent reference computation of the forecast marts (docs/metrics.md, docs/forecast.md).

``mart_forecast_monthly`` and ``mart_forecast_accuracy`` from two generic inputs, written from the
contract without reading the dbt models:

``snapshot``
    rows of ``fct_pipeline_snapshot_daily`` (only the origin days are read): ``snapshot_date``,
    ``deal_id``, ``source``, ``funnel_step_order``, ``amount_reporting``,
    ``weighted_amount_reporting``, ``expected_close_date``.
``deals``
    rows of ``fct_deals``: ``deal_id``, ``source``, ``outcome``, ``created_at``, ``closed_at``
    (naive UTC datetimes), ``amount_reporting``.

:func:`forecast_marts_from_truth` feeds them from the sandbox ground truth through the funnel and
pipeline references. Pure Python: no DuckDB, no dbt.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

Row = dict[str, Any]

METHODS = ("crm_weighted", "empirical", "naive")
HORIZONS = (0, 1, 2)
OPEN_STEPS = (2, 3, 4)
TRAINING_ORIGINS = 12
MIN_TRAINING_ORIGINS = 3
NAIVE_MONTHS = 3

FORECAST_COLUMNS: dict[str, tuple[str, ...]] = {
    "mart_forecast_monthly": (
        "origin_date",
        "target_month",
        "source",
        "method",
        "horizon_months",
        "is_backtest",
        "forecast_amount_reporting",
        "booked_amount_reporting",
        "open_deal_count",
        "actual_won_amount_reporting",
    ),
    "mart_forecast_accuracy": (
        "source",
        "method",
        "horizon_months",
        "n_origins",
        "wape",
        "bias",
        "mape",
        "skill_vs_naive",
    ),
}
FORECAST_KEYS: dict[str, tuple[str, ...]] = {
    "mart_forecast_monthly": ("origin_date", "target_month", "source", "method"),
    "mart_forecast_accuracy": ("source", "method", "horizon_months"),
}


# ---------------------------------------------------------------- calendar


def add_months(month: date, n: int) -> date:
    """The first day of the month ``n`` months after the month of ``month``."""
    k = month.year * 12 + month.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def month_of(day: date | datetime) -> date:
    return date(day.year, day.month, 1)


def end_of(day: date) -> datetime:
    """``end(D)``: D + 1 day at 00:00 UTC (exclusive), as a naive UTC datetime."""
    nxt = day + timedelta(days=1)
    return datetime(nxt.year, nxt.month, nxt.day)


def month_end(month: date) -> datetime:
    """The exclusive end of a month (its first day given)."""
    nxt = add_months(month, 1)
    return datetime(nxt.year, nxt.month, nxt.day)


def origins_of(first_month: date, as_of_date: date) -> list[tuple[date, bool]]:
    """(origin, is_backtest): every month's last day from ``first_month`` to the month before
    ``as_of_date``, then ``as_of_date`` itself."""
    out = []
    m = first_month
    while m < month_of(as_of_date):
        out.append((add_months(m, 1) - timedelta(days=1), True))
        m = add_months(m, 1)
    out.append((as_of_date, False))
    return out


def target_of(origin: date, horizon: int) -> date:
    """The target month of ``origin`` at ``horizon``: the month of origin + 1 day, plus h."""
    return add_months(month_of(origin + timedelta(days=1)), horizon)


def _sum(values: Iterable[float | None]) -> float:
    """Sums add non-null values and are 0 when there are none."""
    return float(sum(v for v in values if v is not None))


# ---------------------------------------------------------------- one source


class SourceForecast:
    """Everything the forecast of one source needs, indexed once."""

    def __init__(
        self, source: str, snapshot: list[Mapping], deals: list[Mapping], as_of_date: date, first_month: date
    ) -> None:
        self.source = source
        self.as_of_date = as_of_date
        self.as_of = end_of(as_of_date)
        self.first_month = first_month
        self.origins = origins_of(self.first_month, as_of_date)
        days = {o for o, _ in self.origins}
        self.open_at: dict[date, list[Mapping]] = defaultdict(list)
        for s in snapshot:
            if s["snapshot_date"] in days:
                self.open_at[s["snapshot_date"]].append(s)
        self.deal = {d["deal_id"]: d for d in deals}
        self.won = [d for d in deals if d["outcome"] == "won"]

    # -- amounts over the final outcomes

    def won_amount(self, start: datetime, end: datetime, *, created_from: datetime | None = None) -> float:
        """Σ final amount_reporting of deals won with closed_at in [start, end)."""
        return _sum(
            d["amount_reporting"]
            for d in self.won
            if start <= d["closed_at"] < end and (created_from is None or d["created_at"] >= created_from)
        )

    def actual(self, month: date) -> float | None:
        """``actual(P)``: known only when P has ended by ``as_of``."""
        end = month_end(month)
        if end > self.as_of:
            return None
        return self.won_amount(datetime(month.year, month.month, 1), end)

    def booked(self, origin: date, month: date) -> float:
        """The part of ``actual(P)`` closed before ``end(origin)``."""
        start = datetime(month.year, month.month, 1)
        return self.won_amount(start, min(month_end(month), end_of(origin)))

    # -- methods

    def crm_weighted(self, origin: date, horizon: int) -> float:
        month = target_of(origin, horizon)
        total = 0.0
        for s in self.open_at[origin]:
            close = s["expected_close_date"]
            if close is None:
                continue
            in_target = month_of(close) == month
            overdue_here = horizon == 0 and close <= origin
            if (in_target or overdue_here) and s["weighted_amount_reporting"] is not None:
                total += s["weighted_amount_reporting"]
        return self.booked(origin, month) + total

    def training_origins(self, origin: date, horizon: int) -> list[date]:
        """The (at most 12) latest back-test origins o' < o whose target (h) ended by end(o)."""
        eligible = [
            o
            for o, backtest in self.origins
            if backtest and o < origin and month_end(target_of(o, horizon)) <= end_of(origin)
        ]
        return sorted(eligible)[-TRAINING_ORIGINS:]

    def empirical(self, origin: date, horizon: int) -> float | None:
        training = self.training_origins(origin, horizon)
        if len(training) < MIN_TRAINING_ORIGINS:
            return None
        numerator = dict.fromkeys(OPEN_STEPS, 0.0)
        denominator = dict.fromkeys(OPEN_STEPS, 0.0)
        new_business = []
        for o in training:
            p = target_of(o, horizon)
            p_start, p_end = datetime(p.year, p.month, 1), month_end(p)
            for s in self.open_at[o]:
                k = s["funnel_step_order"]
                if s["amount_reporting"] is not None:
                    denominator[k] += s["amount_reporting"]
                final = self.deal[s["deal_id"]]
                won_in_p = final["outcome"] == "won" and p_start <= final["closed_at"] < p_end
                if won_in_p and final["amount_reporting"] is not None:
                    numerator[k] += final["amount_reporting"]
            new_business.append(self.won_amount(p_start, p_end, created_from=end_of(o)))
        if any(denominator[k] == 0 for k in OPEN_STEPS):
            return None
        pipeline = 0.0
        for s in self.open_at[origin]:
            if s["amount_reporting"] is not None:
                k = s["funnel_step_order"]
                pipeline += numerator[k] / denominator[k] * s["amount_reporting"]
        month = target_of(origin, horizon)
        return self.booked(origin, month) + pipeline + sum(new_business) / len(new_business)

    def naive(self, origin: date) -> float | None:
        m = month_of(origin + timedelta(days=1))
        months = [add_months(m, -i) for i in range(1, NAIVE_MONTHS + 1)]
        if any(x < self.first_month for x in months):
            return None
        values = [self.won_amount(datetime(x.year, x.month, 1), month_end(x)) for x in months]
        return sum(values) / len(values)

    def monthly_rows(self) -> list[Row]:
        rows = []
        for origin, backtest in self.origins:
            for h in HORIZONS:
                month = target_of(origin, h)
                forecasts = {
                    "crm_weighted": self.crm_weighted(origin, h),
                    "empirical": self.empirical(origin, h),
                    "naive": self.naive(origin),
                }
                for method in METHODS:
                    rows.append(
                        {
                            "origin_date": origin,
                            "target_month": month,
                            "source": self.source,
                            "method": method,
                            "horizon_months": h,
                            "is_backtest": backtest,
                            "forecast_amount_reporting": forecasts[method],
                            "booked_amount_reporting": self.booked(origin, month),
                            "open_deal_count": len(self.open_at[origin]),
                            "actual_won_amount_reporting": self.actual(month),
                        }
                    )
        return rows


# ---------------------------------------------------------------- accuracy


def accuracy_rows(monthly: list[Mapping]) -> list[Row]:
    """One row per source × method × horizon over the back-test rows with a known actual above
    0 and a non-null forecast."""
    naive = {
        (r["source"], r["origin_date"], r["target_month"]): r["forecast_amount_reporting"]
        for r in monthly
        if r["method"] == "naive"
    }
    groups: dict[tuple, list[Mapping]] = defaultdict(list)
    for r in monthly:
        if r["is_backtest"]:
            groups[(r["source"], r["method"], r["horizon_months"])].append(r)
    out = []
    for (source, method, h), rows in sorted(groups.items()):
        scored = [
            r
            for r in rows
            if r["actual_won_amount_reporting"] is not None
            and r["actual_won_amount_reporting"] > 0
            and r["forecast_amount_reporting"] is not None
        ]
        row: Row = {
            "source": source,
            "method": method,
            "horizon_months": h,
            "n_origins": len(scored),
            "wape": None,
            "bias": None,
            "mape": None,
            "skill_vs_naive": None,
        }
        if scored:
            actual = sum(r["actual_won_amount_reporting"] for r in scored)
            errors = [r["forecast_amount_reporting"] - r["actual_won_amount_reporting"] for r in scored]
            row["wape"] = sum(abs(e) for e in errors) / actual
            row["bias"] = sum(errors) / actual
            row["mape"] = sum(
                abs(e) / r["actual_won_amount_reporting"] for e, r in zip(errors, scored, strict=True)
            ) / len(scored)
            paired = [r for r in scored if naive[(source, r["origin_date"], r["target_month"])] is not None]
            if paired:
                a = sum(r["actual_won_amount_reporting"] for r in paired)
                wape = sum(abs(r["forecast_amount_reporting"] - r["actual_won_amount_reporting"]) for r in paired) / a
                wape_naive = (
                    sum(
                        abs(naive[(source, r["origin_date"], r["target_month"])] - r["actual_won_amount_reporting"])
                        for r in paired
                    )
                    / a
                )
                if wape_naive != 0:
                    row["skill_vs_naive"] = 1 - wape / wape_naive
        out.append(row)
    return out


# ---------------------------------------------------------------- entry points


def forecast_marts(snapshot: list[Mapping], deals: list[Mapping], *, as_of_date: date) -> dict[str, list[Row]]:
    """Both forecast marts from snapshot rows and ``fct_deals`` rows (module docstring)."""
    by_source_deals: dict[str, list[Mapping]] = defaultdict(list)
    for d in deals:
        by_source_deals[d["source"]].append(d)
    by_source_snapshot: dict[str, list[Mapping]] = defaultdict(list)
    for s in snapshot:
        by_source_snapshot[s["source"]].append(s)
    monthly: list[Row] = []
    if not deals:
        return {"mart_forecast_monthly": [], "mart_forecast_accuracy": []}
    # "months run from the month of the first live deal's created_at" (every source)
    first_month = min(month_of(d["created_at"]) for d in deals)
    for source in sorted(by_source_deals):
        f = SourceForecast(source, by_source_snapshot[source], by_source_deals[source], as_of_date, first_month)
        monthly.extend(f.monthly_rows())
    return {"mart_forecast_monthly": monthly, "mart_forecast_accuracy": accuracy_rows(monthly)}


def forecast_marts_from_truth(
    truth: Any, *, as_of_date: date, seeds_dir: Path | str, reporting_currency: str = "USD"
) -> dict[str, list[Row]]:
    """:func:`forecast_marts` over the sandbox ground truth: ``fct_deals`` from the funnel
    reference, the daily snapshot from the pipeline reference."""
    from tests.reference.funnel import marts_from_truth
    from tests.reference.pipeline import pipeline_marts_from_truth

    funnel = marts_from_truth(truth, as_of_date=as_of_date, seeds_dir=seeds_dir, reporting_currency=reporting_currency)
    pipeline = pipeline_marts_from_truth(
        truth, as_of_date=as_of_date, seeds_dir=seeds_dir, reporting_currency=reporting_currency
    )
    return forecast_marts(pipeline["fct_pipeline_snapshot_daily"], funnel["fct_deals"], as_of_date=as_of_date)
