with

source as (

    select * from {{ source('raw_pipedrive', 'deal_field_options') }}

),

final as (

    select
        field_code,
        cast(option_id as {{ dbt.type_string() }}) as option_id,
        label as option_label
    from source
    where not coalesce(_is_deleted, false)

)

select * from final
