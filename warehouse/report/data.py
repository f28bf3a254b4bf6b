"""Queries of the report, over the published marts (schema `marts`). One function per need."""

from __future__ import annotations

from typing import Any

import duckdb

from warehouse.db import fetch_one

Rows = list[dict[str, Any]]


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> Rows:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    found = fetch_one(
        con, "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = ?", [table]
    )[0]
    return bool(found)


def build_info(con: duckdb.DuckDBPyConnection) -> Rows:
    if not has_table(con, "mart_build_info"):
        return []
    return rows(con, "select * from marts.mart_build_info order by source")


def headline(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The tiles at the top: leads, won deals, win rate, won value, average won deal, median cycle."""
    leads = fetch_one(con, "select coalesce(sum(new_leads), 0) from marts.mart_lead_volume_daily")[0]
    won, lost, won_value, no_amount = fetch_one(
        con,
        "select coalesce(sum(won_count), 0), coalesce(sum(lost_count), 0), sum(won_amount_reporting), "
        "coalesce(sum(won_without_amount_count), 0) from marts.mart_deal_outcomes_monthly",
    )
    avg_value, median_cycle, open_deals = fetch_one(
        con,
        "select avg(amount_reporting) filter (where outcome = 'won'), "
        "median(cycle_days) filter (where outcome = 'won'), count(*) filter (where outcome = 'open') "
        "from marts.fct_deals",
    )
    return {
        "leads": int(leads),
        "won_deals": int(won),
        "lost_deals": int(lost),
        "open_deals": int(open_deals),
        "win_rate": won / (won + lost) if won + lost else None,
        "won_amount_reporting": won_value,
        "won_without_amount": int(no_amount),
        "avg_won_deal_value": avg_value,
        "median_cycle_days_won": median_cycle,
    }


def leads_by_month_and_channel(con: duckdb.DuckDBPyConnection) -> Rows:
    return rows(
        con,
        "select date_trunc('month', lead_date)::date as month, channel, sum(new_leads)::bigint as leads "
        "from marts.mart_lead_volume_daily group by all order by month, channel",
    )


def leads_by_channel(con: duckdb.DuckDBPyConnection) -> Rows:
    return rows(
        con,
        "select channel, sum(new_leads)::bigint as leads from marts.mart_lead_volume_daily "
        "group by channel order by leads desc, channel",
    )


def funnel_steps(con: duckdb.DuckDBPyConnection) -> Rows:
    """Entries and advances per step 1-4, all cohorts together (as the demo summary)."""
    return rows(
        con,
        "select funnel_step_order, funnel_step, sum(entered_count)::bigint as entered, "
        "sum(advanced_count)::bigint as advanced from marts.mart_stage_conversion_monthly "
        "group by all order by funnel_step_order",
    )


def conversion_trend(con: duckdb.DuckDBPyConnection) -> Rows:
    return rows(
        con,
        "select cohort_month, funnel_step_order, funnel_step, sum(entered_count)::bigint as entered, "
        "sum(advanced_count)::bigint as advanced, sum(advanced_count) / sum(entered_count) as conversion_rate, "
        "bool_and(is_mature) as is_mature from marts.mart_stage_conversion_monthly "
        "group by all order by funnel_step_order, cohort_month",
    )


def outcomes_by_month(con: duckdb.DuckDBPyConnection) -> Rows:
    """Win rate and cycle per close month, every source together (cycle: won-weighted mean of
    the monthly medians is not a median, so the median comes from `fct_deals`)."""
    return rows(
        con,
        "with o as (select close_month, sum(won_count)::bigint as won, sum(lost_count)::bigint as lost "
        "from marts.mart_deal_outcomes_monthly group by close_month), "
        "c as (select date_trunc('month', closed_at)::date as close_month, median(cycle_days) as median_cycle_days "
        "from marts.fct_deals where outcome = 'won' group by 1) "
        "select o.close_month, o.won, o.lost, o.won / (o.won + o.lost) as win_rate, c.median_cycle_days "
        "from o left join c using (close_month) order by o.close_month",
    )
