-- One row per month × source (docs/metrics.md `marts.mart_pipeline_velocity_monthly`),
-- months from the month of the first live deal's creation to the month of `as_of_date`.
-- `period_end` = end of the month's last day (`as_of` for the current month); the window is
-- (period_end − 180 days, period_end]. Open deals come from the snapshot at `period_end`;
-- won / lost deals, their value and cycle from `fct_deals` (final outcomes).
with

days as (

    select * from {{ ref('int_days_spined') }}

),

snapshots as (

    select snapshot_date, source, deal_id from {{ ref('fct_pipeline_snapshot_daily') }}

),

deals as (

    select * from {{ ref('fct_deals') }}

),

periods as (

    select distinct
        days.month,
        days.period_date,
        {{ dbt.dateadd('day', 1, 'cast(days.period_date as timestamp)') }} as period_end,
        sources.source
    from days
    cross join (select distinct source from deals) as sources  -- noqa: ST05

),

open_counts as (

    select periods.month, periods.source, count(snapshots.deal_id) as open_deal_count
    from periods
    left join snapshots
        on periods.period_date = snapshots.snapshot_date
        and periods.source = snapshots.source
    group by periods.month, periods.source

),

closed_in_window as (

    select
        periods.month,
        periods.source,
        sum(case when deals.outcome = 'won' then 1 else 0 end) as won_count,
        sum(case when deals.outcome = 'lost' then 1 else 0 end) as lost_count,
        avg(case when deals.outcome = 'won' then deals.amount_reporting end) as avg_won_deal_value,
        avg(case when deals.outcome = 'won' then deals.cycle_days end) as avg_cycle_days_won
    from periods
    left join deals
        on periods.source = deals.source
        and deals.outcome in ('won', 'lost')
        and deals.closed_at > {{ dbt.dateadd('day', -180, 'periods.period_end') }}
        and periods.period_end >= deals.closed_at
    group by periods.month, periods.source

),

inputs as (

    select
        periods.month,
        periods.source,
        periods.period_end,
        cast(open_counts.open_deal_count as {{ dbt.type_int() }}) as open_deal_count,
        cast(coalesce(closed_in_window.won_count, 0) as {{ dbt.type_int() }}) as won_count,
        cast(coalesce(closed_in_window.lost_count, 0) as {{ dbt.type_int() }}) as lost_count,
        cast(
            case
                when coalesce(closed_in_window.won_count, 0) + coalesce(closed_in_window.lost_count, 0) > 0
                    then closed_in_window.won_count * 1.0
                        / (closed_in_window.won_count + closed_in_window.lost_count)
            end as {{ type_double() }}
        ) as win_rate,
        cast(closed_in_window.avg_won_deal_value as {{ type_double() }}) as avg_won_deal_value,
        cast(closed_in_window.avg_cycle_days_won as {{ type_double() }}) as avg_cycle_days_won
    from periods
    inner join open_counts on periods.month = open_counts.month and periods.source = open_counts.source
    inner join closed_in_window
        on periods.month = closed_in_window.month and periods.source = closed_in_window.source

),

final as (

    select
        month,
        source,
        open_deal_count,
        won_count,
        lost_count,
        win_rate,
        avg_won_deal_value,
        avg_cycle_days_won,
        cast(
            case
                when avg_cycle_days_won <> 0
                    then open_deal_count * win_rate * avg_won_deal_value / avg_cycle_days_won
            end as {{ type_double() }}
        ) as velocity_per_day,
        period_end
    from inputs

)

select * from final
order by month, source
