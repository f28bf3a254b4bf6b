with

source as (

    select * from {{ source('raw_pipedrive', 'pipelines') }}

),

final as (

    select
        cast(id as {{ dbt.type_string() }}) as pipeline_id,
        'pipedrive' as source,
        name as pipeline_label,
        cast(order_nr as {{ dbt.type_int() }}) as display_order,
        coalesce(is_deleted, false) as is_archived
    from source
    where not coalesce(_is_deleted, false)

)

select * from final
