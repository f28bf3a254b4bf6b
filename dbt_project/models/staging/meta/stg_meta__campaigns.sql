with

source as (

    select * from {{ source('raw_meta', 'campaigns') }}

),

renamed as (

    select
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(id as {{ dbt.type_string() }}) as campaign_id,
        name as campaign_name,
        status as campaign_status,
        effective_status,
        objective,
        _loaded_at as loaded_at
    from source
    where not coalesce(_is_deleted, false)

)

select * from renamed
