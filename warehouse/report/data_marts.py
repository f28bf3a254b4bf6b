"""Queries of the report over the pipeline, forecast and marketing marts (schema `marts`).

One function per chart; columns as the model YAML in ``dbt_project/models/marts/`` defines
them. Ratios over summed rows are recomputed from the sums (never averaged), null when their
denominator is 0 or null, as the marts' own definitions say.
"""

from __future__ import annotations

import duckdb

from warehouse.report.data import Rows, rows


def pipeline_value_daily(con: duckdb.DuckDBPyConnection) -> Rows:
    """Open and weighted amount per snapshot day × step, every source and pipeline summed."""
    return rows(
        con,
        "select snapshot_date, funnel_step_order, funnel_step, sum(open_deal_count)::bigint as open_deals, "
        "sum(open_amount_reporting) as open_amount, sum(weighted_amount_reporting) as weighted_amount "
        "from marts.mart_pipeline_by_stage_daily group by all order by funnel_step_order, snapshot_date",
    )


def velocity_monthly(con: duckdb.DuckDBPyConnection) -> Rows:
    return rows(
        con,
        "select month, source, open_deal_count, win_rate, avg_won_deal_value, avg_cycle_days_won, velocity_per_day "
        "from marts.mart_pipeline_velocity_monthly order by source, month",
    )


def bottlenecks_monthly(con: duckdb.DuckDBPyConnection) -> Rows:
    return rows(
        con,
        "select month, source, funnel_step_order, funnel_step, exits, advanced_count, advance_rate, "
        "lost_amount_reporting, stuck_count, stuck_amount_reporting, is_conversion_bottleneck, is_value_bottleneck "
        "from marts.mart_funnel_bottlenecks_monthly order by source, funnel_step_order, month",
    )


def forecast_horizon0(con: duckdb.DuckDBPyConnection) -> Rows:
    """Horizon-0 forecast per target month × method, every source summed, with the actual.

    A target month can have two horizon-0 rows per source (the month-end back-test origin and
    the live origin `as_of_date`); the latest origin is kept. A sum over sources is null when
    any source's value is (a partial sum would read as a low forecast)."""
    return rows(
        con,
        "with latest as (select target_month, source, method, forecast_amount_reporting, "
        "actual_won_amount_reporting from marts.mart_forecast_monthly where horizon_months = 0 "
        "qualify row_number() over (partition by target_month, source, method order by origin_date desc) = 1) "
        "select target_month, method, "
        "case when count(forecast_amount_reporting) = count(*) then sum(forecast_amount_reporting) end as forecast, "
        "case when count(actual_won_amount_reporting) = count(*) then sum(actual_won_amount_reporting) end as actual "
        "from latest group by all order by target_month, method",
    )


def forecast_accuracy(con: duckdb.DuckDBPyConnection) -> Rows:
    return rows(
        con,
        "select source, method, horizon_months, n_origins, wape, bias, skill_vs_naive "
        "from marts.mart_forecast_accuracy order by source, horizon_months, method",
    )


def marketing_roi_by_channel(con: duckdb.DuckDBPyConnection) -> Rows:
    """Spend, leads, customers and revenue per channel over all months; the ratios from the sums."""
    return rows(
        con,
        "with t as (select channel, sum(spend_reporting) as spend, sum(leads)::bigint as leads, "
        "sum(new_customers)::bigint as customers, sum(won_revenue_reporting) as revenue "
        "from marts.mart_marketing_roi_monthly group by channel) "
        "select channel, spend, leads, customers, revenue, "
        "case when spend > 0 and leads > 0 then spend / leads end as cost_per_lead, "
        "case when spend > 0 and customers > 0 then spend / customers end as cac, "
        "case when spend > 0 then revenue / spend end as roas "
        "from t order by spend desc, leads desc, channel",
    )
