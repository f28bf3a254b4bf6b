{%- set min_exits = 20 -%}
{%- set window_days = 180 -%}
-- One row per month × source × step 2–4 with an exit that month or a deal open at the month's
-- end (docs/metrics.md `marts.mart_funnel_bottlenecks_monthly`). Exits of step visits
-- (`int_deal_step_visits_merged`) count in the month of the exit. `period_end` = end of the
-- month's last day (`as_of` for the current month). A step's stuck threshold at `period_end`
-- is the p90 dwell of its step visits exited in (period_end − 180 days, period_end], with at
-- least 20 such exits (else none: stuck figures 0). Money is `amount_reporting`: the lost
-- amount from `fct_deals`, the stuck amount from the snapshot at `period_end`.
with

days as (

    select * from {{ ref('int_days_spined') }}

),

step_visits as (

    -- as of `as_of`: the stored step visits cover each deal's whole history, so those started at
    -- or after `as_of` are left out and an exit at or after it is no exit yet
    select
        deal_id,
        source,
        funnel_step,
        funnel_step_order,
        started_at,
        case when exited_at < {{ as_of() }} then exited_at end as exited_at,
        case when exited_at < {{ as_of() }} then exit_type end as exit_type,
        case when exited_at < {{ as_of() }} then dwell_days end as dwell_days
    from {{ ref('int_deal_step_visits_merged') }}
    where funnel_step_order between 2 and 4
        and started_at < {{ as_of() }}

),

deals as (

    select deal_id, source, amount_reporting from {{ ref('fct_deals') }}

),

snapshots as (

    select snapshot_date, deal_id, source, funnel_step, amount_reporting
    from {{ ref('fct_pipeline_snapshot_daily') }}

),

periods as (

    select distinct
        month,
        period_date,
        {{ dbt.dateadd('day', 1, 'cast(period_date as timestamp)') }} as period_end
    from days

),

exits as (

    select
        step_visits.*,
        {{ month_start('step_visits.exited_at') }} as exit_month,
        deals.amount_reporting as deal_amount_reporting
    from step_visits
    left join deals on step_visits.deal_id = deals.deal_id
    where step_visits.exited_at is not null

),

monthly_exits as (

    select
        exit_month as month,
        source,
        funnel_step,
        funnel_step_order,
        count(*) as exits,
        sum(case when exit_type = 'advanced' then 1 else 0 end) as advanced_count,
        sum(case when exit_type = 'lost' then 1 else 0 end) as lost_count,
        sum(case when exit_type = 'regressed' then 1 else 0 end) as regressed_count,
        {{ median('dwell_days') }} as median_dwell_days,
        {{ percentile('dwell_days', 0.9) }} as p90_dwell_days,
        coalesce(sum(case when exit_type = 'lost' then deal_amount_reporting end), 0) as lost_amount_reporting
    from exits
    group by exit_month, source, funnel_step, funnel_step_order

),

thresholds as (

    select
        periods.month,
        exits.source,
        exits.funnel_step,
        count(*) as window_exits,
        {{ percentile('exits.dwell_days', 0.9) }} as stuck_threshold_days
    from periods
    inner join exits
        on exits.exited_at > {{ dbt.dateadd('day', -window_days, 'periods.period_end') }}
        and periods.period_end >= exits.exited_at
    group by periods.month, exits.source, exits.funnel_step

),

open_at_end as (

    -- deals open at period_end and the step visit they are in then
    select
        periods.month,
        periods.period_end,
        snapshots.source,
        snapshots.funnel_step,
        snapshots.amount_reporting,
        step_visits.started_at as step_started_at
    from periods
    inner join snapshots on periods.period_date = snapshots.snapshot_date
    inner join step_visits
        on snapshots.deal_id = step_visits.deal_id
        and periods.period_end > step_visits.started_at
        and (step_visits.exited_at is null or periods.period_end <= step_visits.exited_at)

),

open_summary as (

    select
        open_at_end.month,
        open_at_end.source,
        open_at_end.funnel_step,
        count(*) as open_at_period_end,
        sum(case when open_at_end.is_stuck then 1 else 0 end) as stuck_count,
        coalesce(sum(case when open_at_end.is_stuck then open_at_end.amount_reporting end), 0) as stuck_amount_reporting
    from (
        select
            open_at_end.*,
            coalesce(
                thresholds.window_exits >= {{ min_exits }}
                and {{ days_between('open_at_end.step_started_at', 'open_at_end.period_end') }}
                > thresholds.stuck_threshold_days,
                false
            ) as is_stuck
        from open_at_end
        left join thresholds
            on open_at_end.month = thresholds.month
            and open_at_end.source = thresholds.source
            and open_at_end.funnel_step = thresholds.funnel_step
    ) as open_at_end
    group by open_at_end.month, open_at_end.source, open_at_end.funnel_step

),

steps as (

    select distinct funnel_step, funnel_step_order from step_visits

),

combined as (

    select
        coalesce(monthly_exits.month, open_summary.month) as month,
        coalesce(monthly_exits.source, open_summary.source) as source,
        coalesce(monthly_exits.funnel_step, open_summary.funnel_step) as funnel_step,
        coalesce(monthly_exits.exits, 0) as exits,
        coalesce(monthly_exits.advanced_count, 0) as advanced_count,
        coalesce(monthly_exits.lost_count, 0) as lost_count,
        coalesce(monthly_exits.regressed_count, 0) as regressed_count,
        monthly_exits.median_dwell_days,
        monthly_exits.p90_dwell_days,
        coalesce(open_summary.open_at_period_end, 0) as open_at_period_end,
        coalesce(open_summary.stuck_count, 0) as stuck_count,
        coalesce(open_summary.stuck_amount_reporting, 0) as stuck_amount_reporting,
        coalesce(monthly_exits.lost_amount_reporting, 0) as lost_amount_reporting
    from monthly_exits
    full outer join open_summary
        on monthly_exits.month = open_summary.month
        and monthly_exits.source = open_summary.source
        and monthly_exits.funnel_step = open_summary.funnel_step

),

ranked as (

    select
        combined.*,
        steps.funnel_step_order,
        case when combined.exits > 0 then combined.advanced_count * 1.0 / combined.exits end as advance_rate,
        row_number() over (
            partition by combined.month, combined.source
            order by
                case when combined.exits >= {{ min_exits }} then 0 else 1 end,
                case when combined.exits > 0 then combined.advanced_count * 1.0 / combined.exits end nulls last,
                steps.funnel_step_order desc
        ) as conversion_rank,
        row_number() over (
            partition by combined.month, combined.source
            order by
                combined.lost_amount_reporting + combined.stuck_amount_reporting desc,
                steps.funnel_step_order desc
        ) as value_rank
    from combined
    inner join steps on combined.funnel_step = steps.funnel_step

),

final as (

    select
        month,
        source,
        funnel_step,
        cast(funnel_step_order as {{ dbt.type_int() }}) as funnel_step_order,
        cast(exits as {{ dbt.type_int() }}) as exits,
        cast(advanced_count as {{ dbt.type_int() }}) as advanced_count,
        cast(lost_count as {{ dbt.type_int() }}) as lost_count,
        cast(regressed_count as {{ dbt.type_int() }}) as regressed_count,
        cast(advance_rate as {{ type_double() }}) as advance_rate,
        cast(median_dwell_days as {{ type_double() }}) as median_dwell_days,
        cast(p90_dwell_days as {{ type_double() }}) as p90_dwell_days,
        cast(open_at_period_end as {{ dbt.type_int() }}) as open_at_period_end,
        cast(stuck_count as {{ dbt.type_int() }}) as stuck_count,
        cast(stuck_amount_reporting as {{ type_double() }}) as stuck_amount_reporting,
        cast(lost_amount_reporting as {{ type_double() }}) as lost_amount_reporting,
        conversion_rank = 1 and exits >= {{ min_exits }} as is_conversion_bottleneck,
        value_rank = 1 and lost_amount_reporting + stuck_amount_reporting > 0 as is_value_bottleneck
    from ranked

)

select * from final
order by month, source, funnel_step_order
