with

source as (

    select * from {{ source('raw_pipedrive', 'persons') }}

),

final as (

    select
        cast(id as {{ dbt.type_string() }}) as person_id,
        'pipedrive' as source,
        name as person_name,
        primary_email as email,
        {{ pipedrive_timestamp('add_time') }} as created_at,
        cast(owner_id as {{ dbt.type_string() }}) as owner_id,
        (coalesce(is_deleted, false) or coalesce(_is_deleted, false)) as is_deleted
    from source

)

select * from final
