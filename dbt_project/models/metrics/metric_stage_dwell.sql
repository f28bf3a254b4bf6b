-- Metric family `dwell_log_days`: completed visits of each open step by week of exit: median
-- and MAD of ln(dwell days), p90 of dwell days (docs/metrics.md#metric-history).
with

visits as (

    select * from {{ ref('fct_deal_stage_history') }}

),

{{ metric_calendar_ctes(days=false) }},

completed_visits as (

    select
        funnel_step as segment,
        dwell_days,
        ln(dwell_days) as log_dwell,
        {{ metric_week_bucket('exited_at') }} as bucket_index
    from visits
    where
        exited_at is not null
        and dwell_days > 0
        and funnel_step in {{ sql_string_list(funnel_open_steps()) }}
        and exited_at >= {{ metric_history_start() }}

),

dwell_medians as (

    select
        bucket_index,
        segment,
        {{ median('log_dwell') }} as median_log_dwell,
        cast(percentile_cont(0.9) within group (order by dwell_days) as {{ type_double() }}) as p90_dwell,
        count(*) as visits
    from completed_visits
    group by bucket_index, segment

),

dwell_mads as (

    select
        completed_visits.bucket_index,
        completed_visits.segment,
        {{ median('abs(completed_visits.log_dwell - dwell_medians.median_log_dwell)') }} as mad_log_dwell
    from completed_visits
    inner join dwell_medians
        on completed_visits.bucket_index = dwell_medians.bucket_index
        and completed_visits.segment = dwell_medians.segment
    group by completed_visits.bucket_index, completed_visits.segment

),

open_step_segments as (

    {{ segment_rows(funnel_open_steps()) }}

),

final as (

    select
        weeks.period_start,
        weeks.period_end,
        'week' as grain,
        weeks.bucket_index,
        'dwell_log_days' as metric,
        open_step_segments.segment,
        dwell_medians.median_log_dwell as value,
        cast(null as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        cast(coalesce(dwell_medians.visits, 0) as {{ dbt.type_int() }}) as n,
        dwell_mads.mad_log_dwell as mad,
        dwell_medians.p90_dwell as p90,
        true as is_complete
    from weeks
    cross join open_step_segments
    left join dwell_medians
        on weeks.bucket_index = dwell_medians.bucket_index
        and open_step_segments.segment = dwell_medians.segment
    left join dwell_mads
        on weeks.bucket_index = dwell_mads.bucket_index
        and open_step_segments.segment = dwell_mads.segment

)

select * from final
