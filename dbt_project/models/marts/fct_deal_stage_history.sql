-- One row per deal per stage visit (docs/metrics.md), as of `as_of`.
with

visits as (

    select * from {{ ref('int_deal_stage_visits_collapsed') }}

),

final as (

    select
        deal_id,
        source,
        source_deal_id,
        pipeline_id,
        stage_id,
        funnel_step,
        funnel_step_order,
        visit_number,
        entered_at,
        exited_at,
        is_current,
        dwell_days,
        is_regression,
        is_skip
    from visits

)

select * from final
