-- Records with a structural fault of their own (docs/metrics.md "Quarantine"): one row per
-- (source, record, rule), with the offending value in words. `int_deals_unioned` leaves the
-- deals listed here out, so every model downstream of it (every mart) inherits the exclusion.
-- It reads staging (not `int_deals_unioned`, which depends on it) and applies the same live
-- filter: archived, deleted or merged deals and deals created at or after `as_of` are never
-- shown, so they are not quarantined either.
-- Rules (stable names):
--   stage_change_before_deal_creation  a stage (Pipedrive: stage or status) history entry
--                                      earlier than the deal's created_at;
--   stage_change_after_load            such an entry dated more than 1 hour (clock skew)
--                                      after the moment it was loaded.
-- A new CRM adds its branch to `stage_entries`; a new rule adds one CTE and one `union all`.
with

hubspot_deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

hubspot_changes as (

    select * from {{ ref('stg_hubspot__deal_property_changes') }}
    where property_name = 'dealstage'

),

hubspot_history as (

    select deal_id, property, history_index, _loaded_at
    from {{ source('raw_hubspot', 'deal_property_history') }}
    where property = 'dealstage'

),

pipedrive_deals as (

    select * from {{ ref('stg_pipedrive__deals') }}

),

pipedrive_flow as (

    select
        cast(deal_id as {{ dbt.type_string() }}) as deal_id,
        {{ pipedrive_timestamp('log_time') }} as changed_at,
        _loaded_at
    from {{ source('raw_pipedrive', 'deal_flow') }}
    where object = 'dealChange'
        and field_key in ('stage_id', 'status')
        and not coalesce(_is_deleted, false)

),

shown_deals as (

    -- the deals the marts would show (the filter of int_deals_unioned)
    select source, deal_id as source_deal_id, created_at
    from hubspot_deals
    where not (is_archived or is_deleted) and created_at < {{ as_of() }}

    union all

    select source, deal_id as source_deal_id, created_at
    from pipedrive_deals
    where not (is_archived or is_deleted) and created_at < {{ as_of() }}

),

stage_entries as (

    -- every stage-history entry as the CRM sent it, with the moment it was loaded
    select
        hubspot_changes.source,
        hubspot_changes.deal_id as source_deal_id,
        hubspot_changes.changed_at,
        hubspot_history._loaded_at as loaded_at
    from hubspot_changes
    inner join hubspot_history
        on hubspot_changes.deal_id = cast(hubspot_history.deal_id as {{ dbt.type_string() }})
        and hubspot_changes.api_history_index = hubspot_history.history_index

    union all

    select
        'pipedrive' as source,
        deal_id as source_deal_id,
        changed_at,
        _loaded_at as loaded_at
    from pipedrive_flow

),

deal_entries as (

    select
        stage_entries.source,
        stage_entries.source_deal_id,
        stage_entries.changed_at,
        stage_entries.loaded_at,
        shown_deals.created_at
    from stage_entries
    inner join shown_deals
        on stage_entries.source = shown_deals.source
        and stage_entries.source_deal_id = shown_deals.source_deal_id

),

before_creation as (

    select
        source,
        source_deal_id,
        'stage_change_before_deal_creation' as rule,
        count(*) as entry_count,
        min(changed_at) as offending_at,
        min(created_at) as reference_at
    from deal_entries
    where changed_at < created_at
    group by source, source_deal_id

),

after_load as (

    select
        source,
        source_deal_id,
        'stage_change_after_load' as rule,
        count(*) as entry_count,
        max(changed_at) as offending_at,
        min(loaded_at) as reference_at
    from deal_entries
    where changed_at > {{ dbt.dateadd('hour', 1, 'loaded_at') }}
    group by source, source_deal_id

),

faults as (

    select
        source,
        source_deal_id,
        rule,
        {{ quarantine_detail(
            "is earlier than the deal''s creation at",
            "check this deal''s created date and stage history in the CRM",
        ) }} as detail
    from before_creation

    union all

    select
        source,
        source_deal_id,
        rule,
        {{ quarantine_detail(
            "is later than its load at",
            "check the timestamps of this deal''s stage history in the CRM",
        ) }} as detail
    from after_load

),

final as (

    select
        source,
        'deal' as entity,
        source_deal_id as source_record_id,
        {{ dbt.concat(["source", "':'", "source_deal_id"]) }} as deal_id,
        rule,
        detail
    from faults

)

select * from final
