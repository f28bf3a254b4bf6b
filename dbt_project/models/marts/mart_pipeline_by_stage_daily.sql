-- One row per day × source × pipeline × funnel step with open deals (docs/metrics.md
-- `marts.mart_pipeline_by_stage_daily`): the snapshot fact summed. Money sums add non-null
-- values and are 0 when there are none; the median ignores nulls.
-- The median is exact but found without holding every value of a group in memory at once
-- (docs/decisions.md, "The daily pipeline median in bounded memory"): a day histogram of
-- `days_in_stage` per group locates the one or two whole-day buckets holding the middle
-- values, and only those buckets' rows are ranked. The group keys are never null (tests).
with

totals as (

    select
        snapshot_date, source, pipeline_id, funnel_step, funnel_step_order,
        count(*) as open_deal_count,
        sum(amount_reporting) as open_amount_reporting,
        sum(weighted_amount_reporting) as weighted_amount_reporting,
        sum(case when amount is null then 1 else 0 end) as deals_missing_amount,
        sum(case when is_overdue then 1 else 0 end) as overdue_deal_count,
        sum(case when is_overdue then amount_reporting end) as overdue_amount_reporting,
        count(days_in_stage) as days_in_stage_count
    -- the snapshot is read where it is used, not through one import CTE: DuckDB stores a CTE
    -- read more than once (38 M rows at a million deals)
    from {{ ref('fct_pipeline_snapshot_daily') }}
    group by snapshot_date, source, pipeline_id, funnel_step, funnel_step_order

),

day_histogram as (

    -- per group, how many values fall in each whole day [d, d + 1)
    select
        snapshot_date, source, pipeline_id, funnel_step, funnel_step_order,
        floor(days_in_stage) as whole_days,
        count(*) as bucket_count
    from {{ ref('fct_pipeline_snapshot_daily') }}
    where days_in_stage is not null
    group by snapshot_date, source, pipeline_id, funnel_step, funnel_step_order, floor(days_in_stage)

),

buckets as (

    select
        day_histogram.*,
        sum(day_histogram.bucket_count) over (
            partition by
                day_histogram.snapshot_date,
                day_histogram.source,
                day_histogram.pipeline_id,
                day_histogram.funnel_step,
                day_histogram.funnel_step_order
            order by day_histogram.whole_days
            rows between unbounded preceding and current row
        ) - day_histogram.bucket_count as count_below
    from day_histogram

),

middle_positions as (

    -- the 1-based positions of the middle value(s) in the group's sorted values: one when the
    -- count is odd, two when it is even
    select
        snapshot_date, source, pipeline_id, funnel_step, funnel_step_order,
        floor((days_in_stage_count + 1) / 2.0) as low_position,
        floor((days_in_stage_count + 2) / 2.0) as high_position
    from totals
    where days_in_stage_count > 0

),

middle_buckets as (

    select
        buckets.snapshot_date, buckets.source, buckets.pipeline_id, buckets.funnel_step, buckets.funnel_step_order,
        buckets.whole_days,
        buckets.count_below,
        middle_positions.low_position,
        middle_positions.high_position
    from buckets
    inner join middle_positions
        on buckets.snapshot_date = middle_positions.snapshot_date
        and buckets.source = middle_positions.source
        and buckets.pipeline_id = middle_positions.pipeline_id
        and buckets.funnel_step = middle_positions.funnel_step
        and buckets.funnel_step_order = middle_positions.funnel_step_order
    where (
        middle_positions.low_position > buckets.count_below
        and middle_positions.low_position <= buckets.count_below + buckets.bucket_count
    ) or (
        middle_positions.high_position > buckets.count_below
        and middle_positions.high_position <= buckets.count_below + buckets.bucket_count
    )

),

middle_values as (

    -- the rows of those buckets only, each with its position in the whole group
    select
        snapshots.snapshot_date,
        snapshots.source,
        snapshots.pipeline_id,
        snapshots.funnel_step,
        snapshots.funnel_step_order,
        snapshots.days_in_stage,
        middle_buckets.low_position,
        middle_buckets.high_position,
        middle_buckets.count_below + row_number() over (
            partition by
                snapshots.snapshot_date,
                snapshots.source,
                snapshots.pipeline_id,
                snapshots.funnel_step,
                snapshots.funnel_step_order,
                middle_buckets.whole_days
            order by snapshots.days_in_stage
        ) as value_position
    from {{ ref('fct_pipeline_snapshot_daily') }} as snapshots
    inner join middle_buckets
        on snapshots.snapshot_date = middle_buckets.snapshot_date
        and snapshots.source = middle_buckets.source
        and snapshots.pipeline_id = middle_buckets.pipeline_id
        and snapshots.funnel_step = middle_buckets.funnel_step
        and snapshots.funnel_step_order = middle_buckets.funnel_step_order
        and floor(snapshots.days_in_stage) = middle_buckets.whole_days

),

medians as (

    -- continuous median: the low middle value plus half the gap to the high one
    select
        snapshot_date, source, pipeline_id, funnel_step, funnel_step_order,
        min(case when value_position = low_position then days_in_stage end) as low_value,
        min(case when value_position = high_position then days_in_stage end) as high_value
    from middle_values
    where value_position = low_position or value_position = high_position
    group by snapshot_date, source, pipeline_id, funnel_step, funnel_step_order

),

final as (

    select
        totals.snapshot_date,
        totals.source,
        totals.pipeline_id,
        totals.funnel_step,
        totals.funnel_step_order,
        cast(totals.open_deal_count as {{ dbt.type_int() }}) as open_deal_count,
        cast(coalesce(totals.open_amount_reporting, 0) as {{ type_double() }}) as open_amount_reporting,
        cast(coalesce(totals.weighted_amount_reporting, 0) as {{ type_double() }}) as weighted_amount_reporting,
        cast(totals.deals_missing_amount as {{ dbt.type_int() }}) as deals_missing_amount,
        cast(
            medians.low_value + (medians.high_value - medians.low_value) * 0.5 as {{ type_double() }}
        ) as median_days_in_stage,
        cast(totals.overdue_deal_count as {{ dbt.type_int() }}) as overdue_deal_count,
        cast(coalesce(totals.overdue_amount_reporting, 0) as {{ type_double() }}) as overdue_amount_reporting
    from totals
    left join medians
        on totals.snapshot_date = medians.snapshot_date
        and totals.source = medians.source
        and totals.pipeline_id = medians.pipeline_id
        and totals.funnel_step = medians.funnel_step
        and totals.funnel_step_order = medians.funnel_step_order

)

select * from final
order by snapshot_date, source, pipeline_id, funnel_step_order
