"""A seeded sandbox → the rows of the relations the checks read (computed by the plain-Python
reference of the marts, :mod:`tests.reference.funnel`, not by dbt), and an in-memory DuckDB
connection holding them (the same names and columns as the dbt marts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from core.settings import DBT_PROJECT_DIR
from emulators import SandboxConfig, build_sandbox
from emulators.truth.ground_truth import GroundTruth
from tests.reference.funnel import hubspot_inputs, marts_of_inputs, stage_entry_times

Row = dict[str, Any]

VISIT_COLUMNS = (
    "deal_id varchar, source varchar, source_deal_id varchar, pipeline_id varchar, stage_id varchar, "
    "funnel_step varchar, funnel_step_order integer, visit_number integer, entered_at timestamp, "
    "exited_at timestamp, is_current boolean, dwell_days double, is_regression boolean, is_skip boolean"
)
LEAD_COLUMNS = "lead_date date, source varchar, channel varchar, new_leads bigint"
DEAL_COLUMNS = "deal_id varchar, owner_id varchar"
"""The columns of ``marts.fct_deals`` the fast path's checks read (`stuck_deals`' owner scan)."""
QUARANTINE_COLUMNS = (
    "source varchar, entity varchar, source_record_id varchar, deal_id varchar, rule varchar, detail varchar"
)


@dataclass(frozen=True)
class AccountSize:
    label: str
    n_deals: int
    n_contacts: int


SIZES: dict[str, AccountSize] = {
    s.label: s
    for s in (
        AccountSize("300", 300, 800),
        AccountSize("1500", 1_500, 4_000),
        AccountSize("20000", 20_000, 53_000),
    )
}
"""Deals a year and contacts in proportion (≈ 2.7 contacts per deal, the issue's real account)."""


VARIATION_THINNING = 1.2
"""The account variation removes ~15-25% of leads and deals (calendar thinning): generate this
much more so a varied account lands near its nominal size."""


def sandbox_config(size: AccountSize, seed: int, *, varied: bool = True, scenario: str | None = None) -> SandboxConfig:
    scale = VARIATION_THINNING if varied else 1.0
    return SandboxConfig(
        seed=seed,
        n_deals=round(size.n_deals * scale),
        n_contacts=round(size.n_contacts * scale),
        scenario=scenario,
        variation=varied,
    )


@dataclass
class Account:
    """One seeded account as the checks see it: the marts' rows and the reference's inputs."""

    visits: list[Row]
    """Rows of ``marts.fct_deal_stage_history``."""
    leads: list[Row]
    """Rows of ``marts.mart_lead_volume_daily``."""
    deals: list[Row]
    """Rows of ``marts.fct_deals``."""
    as_of: date
    crm_deals: list[Row] = field(default_factory=list)
    """The CRM's deals as the reference's generic inputs (for the quarantine rules)."""
    entry_times: dict[str, list[Any]] = field(default_factory=dict)
    """deal_id -> every stage-history entry time the CRM sent for it."""
    quarantined: list[str] = field(default_factory=list)
    """Deals the reference already left out of the marts (none expected in a generated account)."""


def build_account(config: SandboxConfig, work: Path) -> Account:
    """Generate the seeded sandbox and compute its marts with the reference (no dbt)."""
    work.mkdir(parents=True, exist_ok=True)
    path = build_sandbox(config, work / f"s{config.seed}-{config.n_deals}.sqlite")
    try:
        truth = GroundTruth(path)
        inputs = hubspot_inputs(truth)  # without the deals the quarantine rules leave out
        sent = {f"hubspot:{d}" for d in truth.deals()["id"]}
    finally:
        path.unlink(missing_ok=True)
    marts = marts_of_inputs(inputs, as_of_date=config.end_date, seeds_dir=DBT_PROJECT_DIR / "seeds")
    times = stage_entry_times(inputs["stage_history"])
    kept = {f"{d['source']}:{d['source_deal_id']}" for d in inputs["deals"]}
    return Account(
        marts["fct_deal_stage_history"],
        marts["mart_lead_volume_daily"],
        marts["fct_deals"],
        config.end_date,
        inputs["deals"],
        times,
        sorted(sent - kept),
    )


def base_rows(config: SandboxConfig, work: Path) -> tuple[list[Row], list[Row], date]:
    """(visit rows, lead-volume rows, as_of_date = the sandbox end date) of one seeded account."""
    account = build_account(config, work)
    return account.visits, account.leads, account.as_of


def connection(
    visits: list[Row], leads: list[Row], quarantined: list[Row] | None = None, deals: list[Row] | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with ``marts.fct_deal_stage_history``, ``marts.mart_lead_volume_daily``,
    ``marts.fct_deals`` (its DEAL_COLUMNS; empty without ``deals``: no deal has an owner) and
    ``marts.quarantined_records`` when ``quarantined`` is given."""
    con = duckdb.connect(":memory:")
    con.execute("set enable_progress_bar = false")
    con.execute("create schema marts")
    con.execute(f"create table marts.fct_deal_stage_history ({VISIT_COLUMNS})")
    con.execute(f"create table marts.mart_lead_volume_daily ({LEAD_COLUMNS})")
    vcols = [c.split()[0] for c in VISIT_COLUMNS.split(", ")]
    lcols = [c.split()[0] for c in LEAD_COLUMNS.split(", ")]
    vdf = pd.DataFrame([{c: v.get(c) for c in vcols} for v in visits], columns=vcols)  # noqa: F841
    ldf = pd.DataFrame([{c: r.get(c) for c in lcols} for r in leads], columns=lcols)  # noqa: F841
    con.execute("insert into marts.fct_deal_stage_history select * from vdf")
    con.execute("insert into marts.mart_lead_volume_daily select * from ldf")
    con.execute(f"create table marts.fct_deals ({DEAL_COLUMNS})")
    dcols = [c.split()[0] for c in DEAL_COLUMNS.split(", ")]
    ddf = pd.DataFrame([{c: d.get(c) for c in dcols} for d in deals or []], columns=dcols)  # noqa: F841
    con.execute("insert into marts.fct_deals select * from ddf")
    if quarantined is not None:
        con.execute(f"create table marts.quarantined_records ({QUARANTINE_COLUMNS})")
        qcols = [c.split()[0] for c in QUARANTINE_COLUMNS.split(", ")]
        qdf = pd.DataFrame([{c: r.get(c) for c in qcols} for r in quarantined], columns=qcols)  # noqa: F841
        con.execute("insert into marts.quarantined_records select * from qdf")
    return con
