with

source as (

    select * from {{ source('raw_hubspot', 'pipelines') }}

),

final as (

    select
        cast(id as {{ dbt.type_string() }}) as pipeline_id,
        'hubspot' as source,
        label as pipeline_label,
        cast(display_order as {{ dbt.type_int() }}) as display_order,
        coalesce(archived, false) as is_archived
    from source
    where not coalesce(_is_deleted, false)

)

select * from final
