"""The plain-SQL reference of :mod:`benchmarks.scale_bench`: ``reference_marts.sql`` computes
the marts of :data:`REFERENCE_MARTS` straight from the raw tables, in DuckDB, on dbt's threads and
memory limit (the ratios' denominator; ``tests/benchmarks`` proves its rows equal dbt's)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

from benchmarks.proc import REPO_ROOT, child_env

REFERENCE_SQL = Path(__file__).with_name("reference_marts.sql")
REFERENCE_SCHEMA = "reference"
REFERENCE_MARTS = (
    "dim_pipeline_stages",
    "dim_pipelines",
    "dim_owners",
    "fct_deal_stage_history",
    "fct_deals",
    "mart_deal_outcomes_monthly",
    "mart_lead_volume_daily",
    "fct_pipeline_snapshot_daily",
    "mart_pipeline_by_stage_daily",
    "mart_funnel_bottlenecks_monthly",
    "mart_pipeline_velocity_monthly",
    "mart_stage_conversion_monthly",
    "mart_forecast_monthly",
    "mart_forecast_accuracy",
    "fct_ad_spend_daily",
    "mart_marketing_roi_monthly",
    "dim_funnel_steps",
)
"""The marts ``reference_marts.sql`` computes: 17 of the 19, from HubSpot and the ad platforms
(the bench's raw has HubSpot only: its ad-spend tables are empty, so ``fct_ad_spend_daily`` has no
rows there and ``mart_marketing_roi_monthly`` no spend; Pipedrive is in neither). Not in it:
``quarantined_records`` (the generator's clean raw quarantines nothing; the reference applies no
quarantine rule) and ``mart_build_info`` (bookkeeping: load times, dbt's run start).
``same models in dbt run / reference`` compares like for like (dbt's node seconds of these
marts and everything upstream of them)."""


def reference(warehouse: Path, threads: int, as_of: date) -> dict[str, float]:
    """The plain-SQL marts (``reference`` schema) on ``warehouse``, in a child process: wall and
    CPU seconds of that process. A child, because Linux reports a process's peak RSS as at least
    its parent's RSS at the fork: in-process, DuckDB's memory would count in every later dbt step."""
    cmd = [
        sys.executable,
        "-c",
        "import sys; from benchmarks.reference import run_reference; run_reference(*sys.argv[1:])",
        str(warehouse),
        str(int(threads)),
        as_of.isoformat(),
    ]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=child_env())
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{REFERENCE_SQL.name} failed (exit {os.waitstatus_to_exitcode(status)}); its error is above")
    return {"wall_s": time.monotonic() - started, "cpu_s": usage.ru_utime + usage.ru_stime}


def run_reference(warehouse: str, threads: str, as_of: str) -> None:
    """``reference_marts.sql`` on ``warehouse`` with dbt's threads and memory limit
    (``WAREHOUSE_MEMORY_LIMIT``), its variables from the dbt vars, the funnel from ``funnel_steps``."""
    from core.dbt_vars import dbt_var
    from core.funnel import STEPS
    from core.settings import warehouse_memory_limit

    sql = REFERENCE_SQL.read_text()
    with duckdb.connect(warehouse) as con:
        con.execute(f"set threads = {int(threads)}")
        con.execute(f"set memory_limit = '{warehouse_memory_limit()}'")
        con.execute("set enable_progress_bar = false")
        con.execute(f"set variable as_of_date = date '{date.fromisoformat(as_of).isoformat()}'")
        reporting = str(dbt_var("reporting_currency"))
        con.execute("set variable reporting_currency = ?", [reporting])
        con.execute("set variable default_currency = ?", [str(dbt_var("default_currency") or reporting)])
        con.execute(f"drop schema if exists {REFERENCE_SCHEMA} cascade")
        con.execute(f"create schema {REFERENCE_SCHEMA}")
        # the funnel's one definition (the dbt var funnel_steps), as dbt's dim_funnel_steps reads it
        con.execute(
            "create temp table ref_funnel_steps "
            "(funnel_step varchar, funnel_step_order integer, is_closed boolean, step_description varchar)"
        )
        con.executemany(
            "insert into ref_funnel_steps values (?, ?, ?, ?)",
            [(s.name, s.order, s.is_closed, s.description) for s in STEPS],
        )
        con.execute(sql)
