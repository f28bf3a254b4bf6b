with

source as (

    select * from {{ source('raw_meta', 'ad_accounts') }}

),

renamed as (

    select
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        name as account_name,
        upper(currency) as currency_code,
        timezone_name as time_zone,
        _loaded_at as loaded_at
    from source
    where not coalesce(_is_deleted, false)

)

select * from renamed
