{{ deal_chain_config() }}
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

changes_source as (

    select * from {{ ref('int_deal_stage_changes_unioned') }}

),

deals as (

    select deal_id, pipeline_id as deal_pipeline_id from {{ ref('int_deals_unioned') }}

),

pipeline_stages as (

    select * from {{ ref('int_pipeline_stages_unioned') }}

),

funnel_stage_mapping as (

    select * from {{ ref('funnel_stage_mapping') }}

),

changes as (

    -- the deals to build, with their fingerprint and current pipeline joined once here (at a
    -- million deals each later join to a deal-sized table costs its own hash table in memory)
    select
        changes_source.deal_id,
        changes_source.source,
        changes_source.source_deal_id,
        changes_source.stage_id,
        changes_source.pipeline_id,
        changes_source.changed_at,
        changes_source.change_sequence,
        changes_source.deal_created_at,
        deals_to_build.deal_build_fingerprint,
        deals.deal_pipeline_id
    from changes_source
    inner join deals_to_build on changes_source.deal_id = deals_to_build.deal_id
    left join deals on changes_source.deal_id = deals.deal_id

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
        deal_pipeline_id,
        deal_build_fingerprint,
        cast(row_number() over (
            partition by deal_id order by change_sequence
        ) as {{ dbt.type_int() }}) as visit_number,
        -- the first entry is always a visit start: that visit begins at the deal's creation
        case when change_sequence = 1 then deal_created_at else changed_at end as entered_at,
        lead(changed_at) over (partition by deal_id order by change_sequence) as exited_at
    from visit_starts

),

first_stage_owners as (

    -- should a stage id exist in several pipelines of one CRM and the deal's current pipeline
    -- not be one of them, the first of them (pipeline stages are unique per source, pipeline
    -- and stage: a test on int_pipeline_stages_unioned)
    select source, stage_id, min(pipeline_id) as pipeline_id
    from pipeline_stages
    group by source, stage_id

),

owned as (

    -- the pipeline that owns the stage: the deal's current pipeline if it has the stage, else
    -- the first that does; stages no pipeline lists (Pipedrive's won/lost status) belong to the
    -- pipeline the event names (the stage held then), else to the deal's pipeline
    select
        sequenced.*,
        coalesce(
            current_pipeline_stages.pipeline_id,
            first_stage_owners.pipeline_id,
            sequenced.change_pipeline_id,
            sequenced.deal_pipeline_id
        ) as pipeline_id
    from sequenced
    left join pipeline_stages as current_pipeline_stages
        on sequenced.source = current_pipeline_stages.source
        and sequenced.stage_id = current_pipeline_stages.stage_id
        and sequenced.deal_pipeline_id = current_pipeline_stages.pipeline_id
    left join first_stage_owners
        on sequenced.source = first_stage_owners.source
        and sequenced.stage_id = first_stage_owners.stage_id

),

mapped as (

    select
        owned.deal_id,
        owned.source,
        owned.source_deal_id,
        owned.pipeline_id,
        owned.stage_id,
        funnel_stage_mapping.funnel_step,
        funnel_stage_mapping.funnel_step_order,
        owned.visit_number,
        owned.entered_at,
        owned.exited_at,
        owned.deal_build_fingerprint
    from owned
    left join funnel_stage_mapping
        on owned.source = funnel_stage_mapping.source
        and owned.pipeline_id = funnel_stage_mapping.pipeline_id
        and owned.stage_id = funnel_stage_mapping.stage_id

),

flagged as (

    -- one pass over each deal's visits. For visits with a step order (lost visits have none):
    -- the highest order before, and the order of the last visit before that has one (the
    -- largest visit_number * 1000 + order over the earlier visits, a portable "last non-null":
    -- PostgreSQL has no IGNORE NULLS; step orders are below 1000)
    select
        mapped.*,
        lag(mapped.funnel_step) over deal_visits as previous_funnel_step,
        max(mapped.funnel_step_order) over earlier_visits as highest_earlier_step_order,
        max(
            case when mapped.funnel_step_order is not null
                    then mapped.visit_number * 1000 + mapped.funnel_step_order
            end
        ) over earlier_visits as last_earlier_ordered_visit
    from mapped
    window
        deal_visits as (partition by mapped.deal_id order by mapped.visit_number),
        earlier_visits as (
            partition by mapped.deal_id order by mapped.visit_number
            rows between unbounded preceding and 1 preceding
        )

),

ordered as (

    select
        flagged.*,
        case when flagged.funnel_step_order is not null
                then cast(flagged.last_earlier_ordered_visit % 1000 as {{ dbt.type_int() }})
        end as previous_step_order,
        case when flagged.funnel_step_order is not null then flagged.highest_earlier_step_order end
            as highest_previous_step_order
    from flagged

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
        highest_previous_step_order,
        deal_build_fingerprint,
        {{ deal_built_at() }} as deal_built_at
    from ordered

)

select * from final
