{{ deal_chain_config() }}
-- Every CRM's stage-change events in one shape (deal, stage, time, order), for the deals the
-- marts show: the whole history, whatever `as_of` is (the as-of models drop what lies at or
-- after it: docs/decisions.md, "Incremental by deal"). A deal without any history gets one
-- synthetic entry at its creation in its current stage, so every deal has a first visit (its
-- first visit starts at its creation in any case). Deals with entries earlier than their
-- creation are quarantined upstream (int_deals_unioned).
with

deals_to_build as (

    -- incremental by deal (macros/incremental_by_deal.sql): the deals whose inputs changed
    {{ deals_to_build() }}

),

deals as (

    select * from {{ ref('int_deals_unioned') }}
    where deal_id in (select deals_to_build.deal_id from deals_to_build)

),

hubspot_deal_ids as (

    select source_deal_id from deals
    where source = 'hubspot'

),

hubspot_stage_changes as (

    -- the deals to build first: staging's `change_sequence` numbers every deal's history, and
    -- only its order among equal timestamps matters here (the API's order, a larger history
    -- index is older), so the index stands in for it without the window
    select
        deal_id,
        source,
        stage_id,
        changed_at,
        -1 * api_history_index as change_sequence
    from {{ ref('stg_hubspot__deal_stage_changes') }}
    where deal_id in (select hubspot_deal_ids.source_deal_id from hubspot_deal_ids)

),

pipedrive_stage_changes as (

    select * from {{ ref('stg_pipedrive__deal_stage_changes') }}

),

unioned as (

    select
        {{ dbt.concat(["source", "':'", "deal_id"]) }} as deal_id,
        stage_id,
        -- a status-based CRM's won/lost events carry the pipeline of the stage held then
        cast(null as {{ dbt.type_string() }}) as pipeline_id,
        changed_at,
        -- the CRM's order: oldest first, equal timestamps in the API's order
        change_sequence as source_change_sequence
    from hubspot_stage_changes

    union all

    select
        {{ dbt.concat(["source", "':'", "deal_id"]) }} as deal_id,
        stage_id,
        pipeline_id,
        changed_at,
        change_sequence as source_change_sequence
    from pipedrive_stage_changes

),

deal_changes as (

    select
        unioned.deal_id,
        deals.source,
        deals.source_deal_id,
        unioned.stage_id,
        unioned.pipeline_id,
        unioned.changed_at,
        unioned.source_change_sequence,
        deals.created_at as deal_created_at
    from unioned
    inner join deals on unioned.deal_id = deals.deal_id

),

history as (

    select
        deal_id,
        source,
        source_deal_id,
        stage_id,
        pipeline_id,
        changed_at,
        source_change_sequence,
        deal_created_at,
        false as is_synthetic
    from deal_changes

),

deals_with_history as (

    select distinct deal_id from history

),

synthetic_first_changes as (

    select
        deals.deal_id,
        deals.source,
        deals.source_deal_id,
        deals.stage_id,
        cast(null as {{ dbt.type_string() }}) as pipeline_id,
        deals.created_at as changed_at,
        0 as source_change_sequence,
        deals.created_at as deal_created_at,
        true as is_synthetic
    from deals
    left join deals_with_history on deals.deal_id = deals_with_history.deal_id
    where deals_with_history.deal_id is null

),

combined as (

    select * from history
    union all
    select * from synthetic_first_changes

),

final as (

    select
        deal_id,
        source,
        source_deal_id,
        stage_id,
        pipeline_id,
        changed_at,
        cast(row_number() over (
            partition by deal_id order by changed_at, source_change_sequence
        ) as {{ dbt.type_int() }}) as change_sequence,
        deal_created_at,
        is_synthetic
    from combined

)

select
    final.*,
    deals_to_build.deal_build_fingerprint,
    {{ deal_built_at() }} as deal_built_at
from final
inner join deals_to_build on final.deal_id = deals_to_build.deal_id
