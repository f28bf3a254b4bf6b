-- HubSpot lists a property's history newest first. Unpack it into change events in time
-- order: equal timestamps keep the API's order (a larger history_index is older).
with

source as (

    select * from {{ source('raw_hubspot', 'deal_property_history') }}

),

deals as (

    select deal_id, is_deleted from {{ ref('stg_hubspot__deals') }}

),

typed as (

    select
        cast(source.deal_id as {{ dbt.type_string() }}) as deal_id,
        source.property as property_name,
        nullif(source.value, '') as property_value,
        {{ hubspot_timestamp('source.timestamp') }} as changed_at,
        source.history_index,
        source.source_type,
        source.source_id,
        source.updated_by_user_id
    from source

),

sequenced as (

    select
        typed.deal_id,
        'hubspot' as source,
        typed.property_name,
        typed.property_value,
        typed.changed_at,
        row_number() over (
            partition by typed.deal_id, typed.property_name
            order by typed.changed_at asc, typed.history_index desc
        ) as change_sequence,
        typed.history_index as api_history_index,
        typed.source_type,
        typed.source_id,
        typed.updated_by_user_id,
        coalesce(deals.is_deleted, false) as is_deal_deleted
    from typed
    left join deals on typed.deal_id = deals.deal_id

)

select * from sequenced
