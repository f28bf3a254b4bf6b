{{ config(materialized=as_of_view_materialization()) }}
-- One row per deal per stage visit (docs/metrics.md), as of `as_of`: a thin view over the one
-- stored copy of the visits, `int_deal_stage_visits_collapsed` (macros/stage_visits_as_of.sql;
-- docs/decisions.md, "Incremental by deal"), so a new `as_of_date` rebuilds no deal.
with

visits as (

    {{ stage_visits_as_of() }}

),

stages as (

    select * from {{ ref('dim_pipeline_stages') }}

),

final as (

    select
        {{- stage_visit_columns('visits') }}
        visits.exited_at,
        visits.is_current,
        visits.dwell_days,
        visits.is_regression,
        visits.is_skip,
        -- additions beyond the contract: names next to the ids
        coalesce(stages.pipeline_label, visits.pipeline_id) as pipeline_label,
        coalesce(stages.stage_label, visits.stage_id) as stage_label
    from visits
    left join stages
        on visits.source = stages.source
        and visits.pipeline_id = stages.pipeline_id
        and visits.stage_id = stages.stage_id

)

select * from final
