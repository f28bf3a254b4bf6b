-- Pipedrive's stage and status history as ordered stage-change events, the shape every CRM's
-- staging layer hands to the funnel models (docs/metrics.md "Stage history"). From the deal flow,
-- only `dealChange` items whose `field_key` is `stage_id` or `status` count, ordered by
-- `log_time`, ties by the change id. Each event carries the deal's effective stage after it:
-- `won`/`lost` while the status is closed, else the stage the deal holds (a `stage_id` change
-- while closed moves the held stage but yields `won`/`lost` again, which collapses; a reopen
-- yields the held stage). The first event (sequence 0, at `add_time`) is the initial state:
-- the `old_value` of the earliest `stage_id` entry (else the deal's stage), or `won`/`lost`
-- when the earliest `status` entry's `old_value` is closed. Entries after a status `deleted`
-- are dropped (the deal itself is excluded). `pipeline_id` is the pipeline of the held stage.
with

flow as (

    select
        cast(deal_id as {{ dbt.type_string() }}) as deal_id,
        change_id,
        field_key,
        old_value,
        new_value,
        {{ pipedrive_timestamp('log_time') }} as changed_at
    from {{ source('raw_pipedrive', 'deal_flow') }}
    where object = 'dealChange'
        and field_key in ('stage_id', 'status')
        and not coalesce(_is_deleted, false)

),

deals as (

    select deal_id, stage_id, created_at, is_deleted from {{ ref('stg_pipedrive__deals') }}

),

stages as (

    select stage_id, pipeline_id from {{ ref('stg_pipedrive__stages') }}

),

ordered as (

    select
        flow.*,
        row_number() over (partition by flow.deal_id order by flow.changed_at, flow.change_id) as flow_sequence
    from flow

),

earliest_of_kind as (

    select
        deal_id,
        max(case when field_key = 'stage_id' then old_value end) as first_stage_old_value,
        max(case when field_key = 'status' then old_value end) as first_status_old_value
    from (
        select
            deal_id,
            field_key,
            old_value,
            row_number() over (partition by deal_id, field_key order by flow_sequence) as kind_rank
        from ordered
    ) as ranked
    where kind_rank = 1
    group by deal_id

),

events as (

    select
        deals.deal_id,
        cast(0 as {{ dbt.type_bigint() }}) as flow_sequence,
        coalesce(earliest_of_kind.first_stage_old_value, deals.stage_id) as new_stage_id,
        case
            when earliest_of_kind.first_status_old_value in ('won', 'lost')
                then earliest_of_kind.first_status_old_value
            else 'open'
        end as new_status,
        deals.created_at as changed_at
    from deals
    left join earliest_of_kind on deals.deal_id = earliest_of_kind.deal_id

    union all

    select
        deal_id,
        cast(flow_sequence as {{ dbt.type_bigint() }}) as flow_sequence,
        case when field_key = 'stage_id' then new_value end as new_stage_id,
        case when field_key = 'status' then new_value end as new_status,
        changed_at
    from ordered

),

grouped as (

    -- gaps and islands: each stage_id (status) entry opens a group the later rows belong to
    select
        events.*,
        sum(case when events.new_stage_id is not null then 1 else 0 end) over (
            partition by events.deal_id order by events.flow_sequence rows between unbounded preceding and current row
        ) as stage_group,
        sum(case when events.new_status is not null then 1 else 0 end) over (
            partition by events.deal_id order by events.flow_sequence rows between unbounded preceding and current row
        ) as status_group
    from events

),

held as (

    select
        deal_id,
        flow_sequence,
        changed_at,
        max(new_stage_id) over (partition by deal_id, stage_group) as held_stage_id,
        max(new_status) over (partition by deal_id, status_group) as held_status
    from grouped

),

deleted_at as (

    select deal_id, min(flow_sequence) as deleted_sequence
    from held
    where held_status = 'deleted'
    group by deal_id

),

final as (

    select
        held.deal_id,
        'pipedrive' as source,
        case when held.held_status in ('won', 'lost') then held.held_status else held.held_stage_id end as stage_id,
        stages.pipeline_id,
        held.changed_at,
        cast(row_number() over (
            partition by held.deal_id order by held.changed_at, held.flow_sequence
        ) as {{ dbt.type_int() }}) as change_sequence,
        held.held_stage_id,
        held.held_status,
        coalesce(deals.is_deleted, false) as is_deal_deleted
    from held
    left join stages on held.held_stage_id = stages.stage_id
    left join deals on held.deal_id = deals.deal_id
    left join deleted_at on held.deal_id = deleted_at.deal_id
    where deleted_at.deleted_sequence is null or held.flow_sequence < deleted_at.deleted_sequence

)

select * from final
