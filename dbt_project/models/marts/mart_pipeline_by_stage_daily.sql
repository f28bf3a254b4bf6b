-- One row per day × source × pipeline × funnel step with open deals (docs/metrics.md
-- `marts.mart_pipeline_by_stage_daily`): the snapshot fact summed. Money sums add non-null
-- values and are 0 when there are none; the median ignores nulls.
with

snapshots as (

    select * from {{ ref('fct_pipeline_snapshot_daily') }}

),

final as (

    select
        snapshot_date,
        source,
        pipeline_id,
        funnel_step,
        funnel_step_order,
        cast(count(*) as {{ dbt.type_int() }}) as open_deal_count,
        cast(coalesce(sum(amount_reporting), 0) as {{ type_double() }}) as open_amount_reporting,
        cast(coalesce(sum(weighted_amount_reporting), 0) as {{ type_double() }}) as weighted_amount_reporting,
        cast(sum(case when amount is null then 1 else 0 end) as {{ dbt.type_int() }}) as deals_missing_amount,
        {{ median('days_in_stage') }} as median_days_in_stage,
        cast(sum(case when is_overdue then 1 else 0 end) as {{ dbt.type_int() }}) as overdue_deal_count,
        cast(
            coalesce(sum(case when is_overdue then amount_reporting end), 0) as {{ type_double() }}
        ) as overdue_amount_reporting
    from snapshots
    group by snapshot_date, source, pipeline_id, funnel_step, funnel_step_order

)

select * from final
order by snapshot_date, source, pipeline_id, funnel_step_order
