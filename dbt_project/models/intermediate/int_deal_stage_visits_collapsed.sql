{{
    config(
        materialized=deal_chain_materialization(),
        incremental_strategy=deal_incremental_strategy(),
        unique_key='deal_id',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_rebuilt_deals() }}",
    )
}}
-- One row per deal per stage visit over the deal's whole history: the one stored copy of the
-- visits (docs/decisions.md, "Incremental by deal"). Nothing here depends on `as_of`:
-- `fct_deal_stage_history` and the other as-of models drop the visits entered at or after it
-- and end the visit in force then. A visit starts when a deal enters a stage different from
-- the one it is in (repeated entries of the same stage collapse); the first visit starts at the
-- deal's creation. The visit's pipeline is the one that owns its stage; the funnel step comes
-- from the `funnel_stage_mapping` seed (left join: an unmapped stage keeps a null step and fails
-- the blocking test `assert_every_visited_stage_is_mapped`).
with

deals_to_build as (

    -- incremental by deal (macros/incremental_by_deal.sql): the deals whose inputs changed
    {{ deals_to_build() }}

),

changes as (

    select * from {{ ref('int_deal_stage_changes_unioned') }}
    where deal_id in (select deals_to_build.deal_id from deals_to_build)

),

deals as (

    select deal_id, pipeline_id as deal_pipeline_id from {{ ref('int_deals_unioned') }}
    where deal_id in (select deals_to_build.deal_id from deals_to_build)

),

pipeline_stages as (

    select * from {{ ref('int_pipeline_stages_unioned') }}

),

funnel_stage_mapping as (

    select * from {{ ref('funnel_stage_mapping') }}

),

changes_with_previous as (

    select
        changes.*,
        lag(changes.stage_id) over (
            partition by changes.deal_id order by changes.change_sequence
        ) as previous_stage_id
    from changes

),

visit_starts as (

    select *
    from changes_with_previous
    where previous_stage_id is null or previous_stage_id <> stage_id

),

sequenced as (

    select
        deal_id,
        source,
        source_deal_id,
        stage_id,
        pipeline_id as change_pipeline_id,
        cast(row_number() over (
            partition by deal_id order by change_sequence
        ) as {{ dbt.type_int() }}) as visit_number,
        -- the first entry is always a visit start: that visit begins at the deal's creation
        case when change_sequence = 1 then deal_created_at else changed_at end as entered_at,
        lead(changed_at) over (partition by deal_id order by change_sequence) as exited_at
    from visit_starts

),

stage_owners as (

    -- the pipeline that owns the stage; should a stage id exist in several pipelines of one
    -- CRM, prefer the deal's current pipeline
    select deal_id, visit_number, pipeline_id
    from (
        select
            sequenced.deal_id,
            sequenced.visit_number,
            pipeline_stages.pipeline_id,
            row_number() over (
                partition by sequenced.deal_id, sequenced.visit_number
                order by
                    case when pipeline_stages.pipeline_id = deals.deal_pipeline_id then 0 else 1 end,
                    pipeline_stages.pipeline_id
            ) as owner_rank
        from sequenced
        inner join pipeline_stages
            on sequenced.source = pipeline_stages.source
            and sequenced.stage_id = pipeline_stages.stage_id
        left join deals on sequenced.deal_id = deals.deal_id
    ) as ranked
    where owner_rank = 1

),

mapped as (

    select
        sequenced.deal_id,
        sequenced.source,
        sequenced.source_deal_id,
        -- stages no pipeline lists (Pipedrive's won/lost status) belong to the pipeline the event
        -- names (the stage held then), else to the deal's pipeline
        coalesce(stage_owners.pipeline_id, sequenced.change_pipeline_id, deals.deal_pipeline_id) as pipeline_id,
        sequenced.stage_id,
        funnel_stage_mapping.funnel_step,
        funnel_stage_mapping.funnel_step_order,
        sequenced.visit_number,
        sequenced.entered_at,
        sequenced.exited_at
    from sequenced
    left join deals on sequenced.deal_id = deals.deal_id
    left join stage_owners
        on sequenced.deal_id = stage_owners.deal_id
        and sequenced.visit_number = stage_owners.visit_number
    left join funnel_stage_mapping
        on sequenced.source = funnel_stage_mapping.source
        and coalesce(stage_owners.pipeline_id, sequenced.change_pipeline_id, deals.deal_pipeline_id)
        = funnel_stage_mapping.pipeline_id
        and sequenced.stage_id = funnel_stage_mapping.stage_id

),

ordered_visits as (

    -- visits with a step order (lost visits have none): the previous one and the highest before
    select
        deal_id,
        visit_number,
        lag(funnel_step_order) over (
            partition by deal_id order by visit_number
        ) as previous_step_order,
        max(funnel_step_order) over (
            partition by deal_id order by visit_number
            rows between unbounded preceding and 1 preceding
        ) as highest_previous_step_order
    from mapped
    where funnel_step_order is not null

),

flagged as (

    select
        mapped.*,
        ordered_visits.previous_step_order,
        ordered_visits.highest_previous_step_order,
        lag(mapped.funnel_step) over (
            partition by mapped.deal_id order by mapped.visit_number
        ) as previous_funnel_step
    from mapped
    left join ordered_visits
        on mapped.deal_id = ordered_visits.deal_id
        and mapped.visit_number = ordered_visits.visit_number

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
        coalesce(
            visit_number > 1 and funnel_step_order < highest_previous_step_order, false
        ) as is_regression,
        coalesce(
            visit_number > 1 and funnel_step_order > previous_step_order + 1, false
        ) as is_skip,
        coalesce(
            previous_funnel_step in ('won', 'lost') and funnel_step not in ('won', 'lost'), false
        ) as is_reopen,
        previous_funnel_step,
        previous_step_order,
        highest_previous_step_order
    from flagged

)

select
    final.*,
    deals_to_build.deal_build_fingerprint,
    {{ deal_built_at() }} as deal_built_at
from final
inner join deals_to_build on final.deal_id = deals_to_build.deal_id
