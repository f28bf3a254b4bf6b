{%- set p90_lookback_days = var('anomaly_dwell_p90_lookback_days') | int -%}
{%- set stuck_min_multiple = var('anomaly_stuck_min_p90_multiple') -%}
{%- set stuck_max_multiple = var('anomaly_stuck_max_p90_multiple') -%}
-- Metric family `stuck_open_share` (weekly snapshot x open step): of the visits that entered the
-- step 2-4 x its trailing p90 of completed visits before the end of the snapshot day (vars
-- anomaly_stuck_min/max_p90_multiple), the share still in it then ("stuck"). p90 = the step's p90
-- as of as_of_date, the same band for every snapshot (docs/metrics.md#metric-history).
with

visits as (

    select * from {{ ref('fct_deal_stage_history') }}

),

{{ metric_calendar_ctes(days=false) }},

open_step_segments as (

    {{ segment_rows(funnel_open_steps()) }}

),

snapshot_thresholds as (

    -- the step's trailing p90 of completed visits, as known at each snapshot (bucket 0: as_of)
    select
        weeks.bucket_index,
        visits.funnel_step as segment,
        cast(percentile_cont(0.9) within group (order by visits.dwell_days) as {{ type_double() }}) as p90_dwell,
        count(*) as completed_visits
    from weeks
    inner join visits
        on weeks.snapshot_at > visits.exited_at
        and {{ dbt.dateadd('day', -p90_lookback_days, 'weeks.snapshot_at') }} <= visits.exited_at
    where visits.funnel_step in {{ sql_string_list(funnel_open_steps()) }}
    group by weeks.bucket_index, visits.funnel_step

),

snapshot_visits as (

    -- every visit that entered the step before the snapshot (within a year), its age at the
    -- snapshot and whether it was still open then
    select
        weeks.bucket_index,
        visits.funnel_step as segment,
        {{ days_between('visits.entered_at', 'weeks.snapshot_at') }} as age_days,
        case when visits.exited_at is null or visits.exited_at >= weeks.snapshot_at then 1 else 0 end as is_open
    from weeks
    inner join visits
        on weeks.snapshot_at > visits.entered_at
        and {{ dbt.dateadd('day', -366, 'weeks.snapshot_at') }} <= visits.entered_at
    where visits.funnel_step in {{ sql_string_list(funnel_open_steps()) }}

),

snapshot_counts as (

    -- entered the step 2-4 x p90 before the snapshot (denominator) and still there (numerator):
    -- conditioning on the entry, not on all open deals, keeps the ever-growing tail of ancient
    -- zombie deals and the volume trend out of the share
    select
        snapshot_visits.bucket_index,
        snapshot_visits.segment,
        count(*) as band_entries,
        sum(snapshot_visits.is_open) as stuck_visits,
        max(snapshot_thresholds.p90_dwell) as p90_dwell
    from snapshot_visits
    -- one threshold for every snapshot: the step's p90 as of as_of_date, so the band is the
    -- same ages throughout (a p90 that drifts would move the band and fake a trend)
    inner join snapshot_thresholds
        on snapshot_thresholds.bucket_index = 0
        and snapshot_visits.segment = snapshot_thresholds.segment
    where
        snapshot_visits.age_days > {{ stuck_min_multiple }} * snapshot_thresholds.p90_dwell
        and snapshot_visits.age_days <= {{ stuck_max_multiple }} * snapshot_thresholds.p90_dwell
    group by snapshot_visits.bucket_index, snapshot_visits.segment

),

final as (

    select
        weeks.period_end as period_start,
        weeks.period_end,
        'snapshot' as grain,
        weeks.bucket_index,
        'stuck_open_share' as metric,
        open_step_segments.segment,
        case
            when coalesce(snapshot_counts.band_entries, 0) > 0
                then cast(snapshot_counts.stuck_visits * 1.0 / snapshot_counts.band_entries as {{ type_double() }})
        end as value,
        cast(coalesce(snapshot_counts.stuck_visits, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(snapshot_counts.band_entries, 0) as {{ type_double() }}) as denominator,
        cast(coalesce(snapshot_counts.band_entries, 0) as {{ dbt.type_int() }}) as n,
        cast(null as {{ type_double() }}) as mad,
        snapshot_counts.p90_dwell as p90,
        true as is_complete
    from weeks
    cross join open_step_segments
    left join snapshot_counts
        on weeks.bucket_index = snapshot_counts.bucket_index
        and open_step_segments.segment = snapshot_counts.segment

)

select * from final
