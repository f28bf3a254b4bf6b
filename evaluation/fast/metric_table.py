"""The checks that read ``metrics.metric_funnel_history`` (``skip_rate_jump``,
``regression_rate_jump``, ``won_amount_sanity``) on the fast path.

That table is dbt's (the ``metrics`` layer over ``marts.fct_deal_stage_history`` and
``marts.fct_deals``) and the fast path keeps no Python copy of its SQL: dbt itself builds the
``metrics`` models (``dbt run --select path:models/metrics``, nothing upstream) once per worker
and as-of date, on a DuckDB file holding the fast path's two marts. The family models are views,
so for each further account the marts' rows are replaced and the table is rebuilt from the SQL
dbt compiled for it (``target/compiled/…/metric_funnel_history.sql``): what ``dbt run`` would
execute, without paying dbt's start-up (~10 s of CPU) per seed. Every account of a run has the
same end date, so dbt runs once per worker.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from core.dbt_cli import run_dbt
from evaluation.fast.relations import VISIT_COLUMNS, Row

METRIC_TABLE_CHECKS = ("skip_rate_jump", "regression_rate_jump", "won_amount_sanity")
TABLE = "metrics.metric_funnel_history"
DEAL_COLUMNS = (
    "deal_id varchar, source varchar, outcome varchar, amount double, currency_code varchar, "
    "amount_reporting double, created_at timestamp, closed_at timestamp"
)
"""The columns of ``marts.fct_deals`` the metric models and these checks read."""
MARTS = {"marts.fct_deal_stage_history": VISIT_COLUMNS, "marts.fct_deals": DEAL_COLUMNS}


class MetricTableError(RuntimeError):
    """dbt could not build the metric models (the message has the tail of its output)."""


def _fill(con: duckdb.DuckDBPyConnection, name: str, columns: str, rows: list[Row]) -> None:
    cols = [c.split()[0] for c in columns.split(", ")]
    frame = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)  # noqa: F841
    con.execute(f"delete from {name}")
    con.execute(f"insert into {name} select * from frame")


class MetricTable:
    """One worker's DuckDB file with the two marts and the dbt-built ``metrics`` layer."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.path = work / "metric_warehouse.duckdb"
        self.as_of: date | None = None
        self.table_sql = ""

    def _dbt(self, as_of: date, visits: list[Row] | None = None, deals: list[Row] | None = None) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        with duckdb.connect(str(self.path)) as con:
            con.execute("create schema marts")
            for (name, columns), rows in zip(MARTS.items(), (visits, deals), strict=True):
                con.execute(f"create table {name} ({columns})")
                if rows is not None:
                    _fill(con, name, columns, rows)
        target = self.work / "target"
        proc = run_dbt(
            "run",
            "--select",
            "path:models/metrics",
            "--target-path",
            str(target),
            "--log-path",
            str(self.work / "logs"),
            "--vars",
            json.dumps({"as_of_date": as_of.isoformat()}),
            warehouse=self.path,
            capture=True,
        )
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-12:])
            raise MetricTableError(f"dbt run of the metrics layer failed (exit {proc.returncode}):\n{tail}")
        (compiled,) = target.glob("compiled/*/models/metrics/metric_funnel_history.sql")
        self.table_sql = compiled.read_text()
        self.as_of = as_of

    def _fresh(self, visits: list[Row], deals: list[Row], as_of: date) -> duckdb.DuckDBPyConnection:
        """A plain ``dbt run`` of the metrics layer over these marts (the reference for the test)."""
        self._dbt(as_of, visits, deals)
        return duckdb.connect(str(self.path))

    def connect(self, visits: list[Row], deals: list[Row], as_of: date) -> duckdb.DuckDBPyConnection:
        """A connection to the file with ``visits`` and ``deals`` as the marts and the metric
        table rebuilt over them as of ``as_of`` (the caller closes it)."""
        if self.as_of != as_of:
            self._dbt(as_of)
        con = duckdb.connect(str(self.path))
        con.execute("set enable_progress_bar = false")
        _fill(con, "marts.fct_deal_stage_history", VISIT_COLUMNS, visits)
        _fill(con, "marts.fct_deals", DEAL_COLUMNS, deals)
        con.execute(f"create or replace table {TABLE} as {self.table_sql}")
        return con
