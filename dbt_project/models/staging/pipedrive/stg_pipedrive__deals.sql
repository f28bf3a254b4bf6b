with

source as (

    select * from {{ source('raw_pipedrive', 'deals') }}

),

final as (

    select
        cast(id as {{ dbt.type_string() }}) as deal_id,
        'pipedrive' as source,
        title as deal_name,
        cast(pipeline_id as {{ dbt.type_string() }}) as pipeline_id,
        cast(stage_id as {{ dbt.type_string() }}) as stage_id,
        status,
        -- Pipedrive stores 0 when no value was entered: an amount is never null
        cast(coalesce(value, 0) as {{ type_double() }}) as amount,
        upper(nullif(trim(currency), '')) as currency_code,
        {{ pipedrive_timestamp('add_time') }} as created_at,
        {{ pipedrive_timestamp('update_time') }} as last_modified_at,
        cast(nullif(trim(expected_close_date), '') as date) as expected_close_date,
        cast(owner_id as {{ dbt.type_string() }}) as owner_id,
        cast(person_id as {{ dbt.type_string() }}) as person_id,
        nullif(trim(source_lead_id), '') as source_lead_id,
        cast(channel as {{ dbt.type_string() }}) as channel_option_id,
        origin,
        coalesce(is_archived, false) as is_archived,
        (coalesce(is_deleted, false) or status = 'deleted' or coalesce(_is_deleted, false)) as is_deleted,
        _loaded_at as loaded_at
    from source

)

select * from final
