with

source as (

    select * from {{ source('raw_google_ads', 'customers') }}

),

renamed as (

    select
        cast(customer_id as {{ dbt.type_string() }}) as account_id,
        descriptive_name as account_name,
        upper(currency_code) as currency_code,
        time_zone,
        _loaded_at as loaded_at
    from source
    where not coalesce(_is_deleted, false)

)

select * from renamed
