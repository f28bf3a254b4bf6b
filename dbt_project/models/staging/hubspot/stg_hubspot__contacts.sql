with

source as (

    select * from {{ source('raw_hubspot', 'contacts') }}

),

latest as (

    select
        *,
        row_number() over (partition by id order by _loaded_at desc, _sync_id desc) as version_rank
    from source

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as contact_id,
        'hubspot' as source,
        {{ hubspot_timestamp('createdate') }} as created_at,
        {{ hubspot_timestamp('lastmodifieddate') }} as last_modified_at,
        email,
        firstname as first_name,
        lastname as last_name,
        lifecyclestage as lifecycle_stage,
        hs_lead_status as lead_status,
        hs_analytics_source as channel_raw,
        case
            when hs_analytics_source is null or trim(hs_analytics_source) = '' then 'unknown'
            else lower(hs_analytics_source)
        end as channel,
        hs_analytics_source_data_1 as channel_detail_1,
        hs_analytics_source_data_2 as channel_detail_2,
        nullif(trim(hubspot_owner_id), '') as owner_id,
        nullif(trim(hs_merged_object_ids), '') as merged_object_ids,
        coalesce(archived, false) as is_archived,
        {{ hubspot_timestamp('archived_at') }} as archived_at,
        coalesce(_is_deleted, false) as is_deleted,
        _loaded_at as loaded_at
    from latest
    where version_rank = 1

)

select * from renamed
