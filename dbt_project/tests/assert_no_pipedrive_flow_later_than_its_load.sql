-- BLOCKING (on stg_pipedrive__deal_stage_changes, so `dbt build` skips everything downstream when
-- it fails). The Pipedrive twin of assert_no_stage_history_later_than_its_load: a stage or status
-- change in a deal's flow dated later than the moment we loaded it (`_loaded_at`, plus 1 hour for
-- clock skew) is a corrupted timestamp. One row per deal with the worst entry.
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'stg_pipedrive__deal_stage_changes'}}}) }}

with

flow as (

    select
        cast(deal_id as {{ dbt.type_string() }}) as deal_id,
        {{ pipedrive_timestamp('log_time') }} as changed_at,
        _loaded_at
    from {{ source('raw_pipedrive', 'deal_flow') }}
    where object = 'dealChange'
        and field_key in ('stage_id', 'status')
        and not coalesce(_is_deleted, false)

)

select
    deal_id,
    'pipedrive' as source,
    count(*) as entries_after_load,
    max(changed_at) as latest_changed_at,
    min(_loaded_at) as loaded_at,
    'flow entry dated after it was loaded: check the log_time of this deal''s flow in Pipedrive' as fix
from flow
where changed_at > {{ dbt.dateadd('hour', 1, '_loaded_at') }}
group by deal_id
