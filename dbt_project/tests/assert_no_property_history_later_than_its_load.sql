-- WARN (on stg_hubspot__deal_property_changes). A history entry of a property other than the
-- stage (amount, close date, currency, ...) dated later than the moment we loaded it
-- (`_loaded_at`, plus 1 hour for clock skew between the CRM and us) is a corrupted timestamp
-- ("changes in the future"). Such entries are at or after `as_of` in practice, so the marts
-- ignore them; a stage entry like that quarantines its deal instead (rule
-- stage_change_after_load, int_records_quarantined). Never blocking. Returns one row per deal and
-- property with the worst entry.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_hubspot__deal_property_changes'}}}) }}

with

changes as (

    select * from {{ ref('stg_hubspot__deal_property_changes') }}

),

raw_history as (

    select deal_id, property, history_index, _loaded_at
    from {{ source('raw_hubspot', 'deal_property_history') }}

)

select
    changes.deal_id,
    changes.source,
    changes.property_name,
    count(*) as entries_after_load,
    max(changes.changed_at) as latest_changed_at,
    min(raw_history._loaded_at) as loaded_at,
    'history entry dated after it was loaded: check the timestamps of this deal''s history in the CRM' as fix
from changes
inner join raw_history
    on cast(raw_history.deal_id as {{ dbt.type_string() }}) = changes.deal_id
    and raw_history.property = changes.property_name
    and raw_history.history_index = changes.api_history_index
where changes.property_name <> 'dealstage'
    and changes.changed_at > {{ dbt.dateadd('hour', 1, 'raw_history._loaded_at') }}
group by changes.deal_id, changes.source, changes.property_name
