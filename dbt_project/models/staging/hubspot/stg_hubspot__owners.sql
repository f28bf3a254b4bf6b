with

source as (

    select * from {{ source('raw_hubspot', 'owners') }}

),

final as (

    select
        cast(id as {{ dbt.type_string() }}) as owner_id,
        'hubspot' as source,
        email,
        first_name,
        last_name,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        coalesce(archived, false) as is_archived
    from source
    where not coalesce(_is_deleted, false)

)

select * from final
