"""A small hand-built warehouse for the anomaly checks: the metric table they read, filled with
seeded, stationary noise (clean), and the few mart columns their deal-id samples query.
Each test injects one obvious anomaly into it. No dbt, no HTTP: milliseconds per warehouse."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

import duckdb
import pytest

AS_OF = date(2026, 10, 31)
WEEKS = 30
CHANNELS = {"paid_search": 25.0, "organic_search": 45.0}
TO_STEPS = {"qualification": 20.0, "presentation": 30.0, "negotiation": 25.0, "won": 10.0, "lost": 30.0}
OPEN_STEPS = ("qualification", "presentation", "negotiation")

METRIC_DDL = """
create schema if not exists metrics;
create schema if not exists marts;
create schema if not exists intermediate;
create table metrics.metric_funnel_history (
    metric varchar, segment varchar, grain varchar, bucket_index integer, period_start date, period_end date,
    value double, numerator double, denominator double, n integer, mad double, p90 double,
    is_complete boolean, as_of_date date);
create table marts.fct_deals (deal_id varchar, outcome varchar, amount_reporting double, closed_at timestamp,
    first_qualification_at timestamp, first_presentation_at timestamp, first_negotiation_at timestamp,
    first_won_at timestamp, owner_id varchar);
create table marts.fct_deal_stage_history (deal_id varchar, funnel_step varchar, visit_number integer,
    entered_at timestamp, exited_at timestamp, is_current boolean, dwell_days double, is_regression boolean,
    is_skip boolean);
create table intermediate.int_leads_unioned (lead_id varchar, created_at timestamp);
create table marts.mart_lead_volume_daily (lead_date date, source varchar, channel varchar, new_leads bigint);
create table intermediate.int_deal_contacts_unioned (deal_id varchar, lead_id varchar);
"""


class Warehouse:
    """Metric rows keyed (metric, segment, grain, bucket_index), written to DuckDB on `con()`."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.rows: dict[tuple, dict] = {}
        self.deals: list[tuple] = []
        self._clean()

    # -------------------------------------------------------------- noise
    def poisson(self, mean: float) -> int:
        # normal approximation, good enough above ~10; exact Knuth below
        if mean < 15:
            limit, k, p = math.exp(-mean), 0, 1.0
            while True:
                p *= self.rng.random()
                if p <= limit:
                    return k
                k += 1
        return max(0, round(self.rng.gauss(mean, math.sqrt(mean))))

    def binomial(self, n: int, p: float) -> int:
        return min(n, max(0, round(self.rng.gauss(n * p, math.sqrt(n * p * (1 - p))))))

    # -------------------------------------------------------------- rows
    def put(
        self,
        metric,
        segment,
        grain,
        idx,
        *,
        value=None,
        numerator=None,
        denominator=None,
        n=0,
        mad=None,
        p90=None,
        complete=True,
    ):
        if grain == "day":
            start = end = AS_OF - timedelta(days=idx)
        elif grain == "week":
            end = AS_OF - timedelta(days=7 * idx)
            start = end - timedelta(days=6)
        else:
            start = end = AS_OF - timedelta(days=7 * idx)
        self.rows[(metric, segment, grain, idx)] = dict(
            metric=metric,
            segment=segment,
            grain=grain,
            bucket_index=idx,
            period_start=start,
            period_end=end,
            value=value,
            numerator=numerator,
            denominator=denominator,
            n=n,
            mad=mad,
            p90=p90,
            is_complete=complete,
            as_of_date=AS_OF,
        )

    def row(self, metric, segment, grain, idx) -> dict:
        return self.rows[(metric, segment, grain, idx)]

    def _clean(self) -> None:
        for day in range(7 * WEEKS):
            weekday = (AS_OF - timedelta(days=day)).weekday()
            factor = 1.0 if weekday < 5 else 0.25
            for channel, mean in CHANNELS.items():
                k = self.poisson(mean * factor)
                self.put("leads", channel, "day", day, value=k, numerator=k, n=k)
            for step, mean in TO_STEPS.items():
                k = self.poisson(mean)
                self.put("transitions", step, "day", day, value=k, numerator=k, n=k)
            self.put("flapping_deals", "all", "day", day, value=0, numerator=0, denominator=150, n=150)
        for week in range(WEEKS):
            for step, p in (("lead", 0.25), ("qualification", 0.5), ("presentation", 0.55), ("negotiation", 0.4)):
                n = 400
                x = self.binomial(n, p)
                self.put(
                    "stage_conversion",
                    step,
                    "week",
                    week,
                    value=x / n,
                    numerator=x,
                    denominator=n,
                    n=n,
                    complete=week >= 4,
                )
            for metric, p in (("skip_rate", 0.01), ("regression_rate", 0.02)):
                n = 1100
                x = self.binomial(n, p)
                self.put(metric, "all", "week", week, value=x / n, numerator=x, denominator=n, n=n)
            for step in OPEN_STEPS:
                self.put(
                    "dwell_log_days", step, "week", week, value=self.rng.gauss(2.0, 0.05), n=250, mad=0.6, p90=30.0
                )
                x = self.binomial(700, 0.12)
                self.put(
                    "stuck_open_share",
                    step,
                    "snapshot",
                    week,
                    value=x / 700,
                    numerator=x,
                    denominator=700,
                    n=700,
                    p90=30.0,
                )
            x = self.binomial(90, 0.08)
            self.put("won_missing_amount", "all", "week", week, value=x / 90, numerator=x, denominator=90, n=90)
            self.put("won_log_amount", "all", "week", week, value=self.rng.gauss(9.0, 0.05), n=82, mad=0.6)
        # won deals for the amount-outlier counts: ~12 a day with lognormal amounts
        for day in range(7 * 16):
            for k in range(12):
                closed = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 12) - timedelta(days=day, minutes=k)
                amount = math.exp(self.rng.gauss(9.0, 0.9))
                self.deals.append((f"hubspot:w{day}-{k}", "won", amount, closed, None, None, None, None))

    def con(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:")
        con.execute(METRIC_DDL)
        cols = list(next(iter(self.rows.values())))
        _bulk_insert(con, "metrics.metric_funnel_history", cols, [[r[c] for c in cols] for r in self.rows.values()])
        deal_cols = [
            "deal_id",
            "outcome",
            "amount_reporting",
            "closed_at",
            "first_qualification_at",
            "first_presentation_at",
            "first_negotiation_at",
            "first_won_at",
        ]
        _bulk_insert(con, "marts.fct_deals", deal_cols, self.deals)
        return con


def _bulk_insert(con: duckdb.DuckDBPyConnection, table: str, cols: list[str], rows: list) -> None:
    """Insert through one Arrow table (executemany is row by row: seconds instead of milliseconds)."""
    if not rows:
        return
    import pyarrow as pa

    data = pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})
    con.register("_rows", data)
    con.execute(f"insert into {table} ({', '.join(cols)}) select {', '.join(cols)} from _rows")
    con.unregister("_rows")


@pytest.fixture
def warehouse() -> Warehouse:
    return Warehouse()
