with

source as (

    select * from {{ source('raw_google_ads', 'campaigns') }}

),

renamed as (

    select
        cast(customer_id as {{ dbt.type_string() }}) as account_id,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        name as campaign_name,
        status as campaign_status,
        _loaded_at as loaded_at
    from source
    where not coalesce(_is_deleted, false)

)

select * from renamed
