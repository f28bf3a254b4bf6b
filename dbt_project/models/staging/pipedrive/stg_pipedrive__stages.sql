with

source as (

    select * from {{ source('raw_pipedrive', 'stages') }}

),

final as (

    select
        cast(pipeline_id as {{ dbt.type_string() }}) as pipeline_id,
        cast(id as {{ dbt.type_string() }}) as stage_id,
        'pipedrive' as source,
        name as stage_label,
        cast(order_nr as {{ dbt.type_int() }}) as display_order,
        -- won and lost are a deal status in Pipedrive, never a stage
        false as is_closed,
        cast(deal_probability as {{ type_double() }}) / 100 as probability,
        coalesce(is_deleted, false) as is_archived
    from source
    where not coalesce(_is_deleted, false)

)

select * from final
