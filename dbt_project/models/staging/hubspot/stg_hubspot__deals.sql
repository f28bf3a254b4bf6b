with

source as (

    select * from {{ source('raw_hubspot', 'deals') }}

),

latest as (

    select
        *,
        row_number() over (partition by id order by _loaded_at desc, _sync_id desc) as version_rank
    from source

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as deal_id,
        'hubspot' as source,
        dealname as deal_name,
        pipeline as pipeline_id,
        dealstage as stage_id,
        cast(nullif(trim(amount), '') as {{ type_double() }}) as amount,
        upper(nullif(trim(deal_currency_code), '')) as currency_code,
        {{ hubspot_timestamp('createdate') }} as created_at,
        {{ hubspot_timestamp('closedate') }} as close_date_at,
        {{ hubspot_timestamp('hs_lastmodifieddate') }} as last_modified_at,
        nullif(trim(hubspot_owner_id), '') as owner_id,
        coalesce(lower(hs_is_closed) = 'true', false) as is_closed,
        coalesce(lower(hs_is_closed_won) = 'true', false) as is_closed_won,
        nullif(trim(hs_merged_object_ids), '') as merged_object_ids,
        coalesce(archived, false) as is_archived,
        {{ hubspot_timestamp('archived_at') }} as archived_at,
        coalesce(_is_deleted, false) as is_deleted,
        _loaded_at as loaded_at
    from latest
    where version_rank = 1

)

select * from renamed
