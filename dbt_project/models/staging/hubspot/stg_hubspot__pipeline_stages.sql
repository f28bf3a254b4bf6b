with

source as (

    select * from {{ source('raw_hubspot', 'pipeline_stages') }}

),

final as (

    select
        cast(pipeline_id as {{ dbt.type_string() }}) as pipeline_id,
        cast(id as {{ dbt.type_string() }}) as stage_id,
        'hubspot' as source,
        label as stage_label,
        cast(display_order as {{ dbt.type_int() }}) as display_order,
        coalesce(lower(is_closed) = 'true', false) as is_closed,
        cast(nullif(trim(probability), '') as {{ type_double() }}) as probability,
        coalesce(archived, false) as is_archived
    from source
    where not coalesce(_is_deleted, false)

)

select * from final
