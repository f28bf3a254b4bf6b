-- mart_funnel_bottlenecks_monthly: every exit is advanced, lost or regressed
-- (exits = advanced + lost + regressed), stuck deals are among the open ones, at most one step
-- per month and source carries each bottleneck flag, and the lost exits of a month add up to
-- the step visits (int_deal_step_visits_merged) that exited into a lost visit that month
-- (exits before `as_of`).
-- Returns the offending rows.
{{ config(meta={'dagster': {'ref': {'name': 'mart_funnel_bottlenecks_monthly'}}}) }}

with

mart as (

    select * from {{ ref('mart_funnel_bottlenecks_monthly') }}

),

flags as (

    select
        month,
        source,
        sum(case when is_conversion_bottleneck then 1 else 0 end) as conversion_flags,
        sum(case when is_value_bottleneck then 1 else 0 end) as value_flags,
        sum(lost_count) as lost_exits
    from mart
    group by month, source

),

lost_exits as (

    select {{ month_start('exited_at') }} as month, source, count(*) as lost_exits
    from {{ ref('int_deal_step_visits_merged') }}
    where exit_type = 'lost' and funnel_step_order between 2 and 4
        and exited_at < {{ as_of() }}
    group by {{ month_start('exited_at') }}, source

)

select mart.month, mart.source, mart.funnel_step, 'exits <> advanced + lost + regressed' as problem
from mart
where exits <> advanced_count + lost_count + regressed_count

union all

select mart.month, mart.source, mart.funnel_step, 'more stuck than open deals' as problem
from mart
where stuck_count > open_at_period_end

union all

select flags.month, flags.source, null as funnel_step, 'a bottleneck flag on several steps' as problem
from flags
where conversion_flags > 1 or value_flags > 1

union all

select lost_exits.month, lost_exits.source, null as funnel_step, 'lost exits do not add up' as problem
from lost_exits
left join flags on lost_exits.month = flags.month and lost_exits.source = flags.source
where coalesce(flags.lost_exits, 0) <> lost_exits.lost_exits
