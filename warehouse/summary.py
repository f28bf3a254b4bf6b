"""A short, human-readable summary of what the warehouse holds (printed by `make demo`)."""

from __future__ import annotations

from pathlib import Path

import duckdb


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


def summary_lines(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        leads = _scalar(
            con, "select count(*) from staging.stg_hubspot__contacts where not is_archived and not is_deleted"
        )
        deals = con.execute(
            """
            select
                count(*) as deals,
                count(*) filter (where not s.is_closed) as open_deals,
                count(*) filter (where s.is_closed and s.probability = 1) as won,
                count(*) filter (where s.is_closed and s.probability < 1) as lost
            from staging.stg_hubspot__deals d
            left join staging.stg_hubspot__pipeline_stages s
                on d.pipeline_id = s.pipeline_id and d.stage_id = s.stage_id
            where not d.is_archived and not d.is_deleted
            """
        ).fetchone()
        changes = _scalar(con, "select count(*) from staging.stg_hubspot__deal_stage_changes")
    n_deals, n_open, n_won, n_lost = deals
    closed = n_won + n_lost
    win_rate = f"{n_won / closed:.1%}" if closed else "n/a"
    return [
        f"leads (live contacts):   {leads}",
        f"deals (live):            {n_deals}  (open {n_open}, won {n_won}, lost {n_lost})",
        f"win rate (closed deals): {win_rate}",
        f"stage changes:           {changes}",
    ]


def print_summary(path: Path) -> None:
    for line in summary_lines(path):
        print("    " + line)
