with

source as (

    select * from {{ source('raw_hubspot', 'deal_contact_associations') }}

),

final as (

    select distinct
        cast(deal_id as {{ dbt.type_string() }}) as deal_id,
        cast(contact_id as {{ dbt.type_string() }}) as contact_id,
        'hubspot' as source,
        association_type
    from source
    where not coalesce(_is_deleted, false)

)

select * from final
