with

source as (

    select * from {{ source('raw_google_ads', 'campaign_stats') }}

),

latest as (

    select
        *,
        row_number() over (
            partition by customer_id, campaign_id, date order by _loaded_at desc, _sync_id desc
        ) as version_rank
    from source
    where not coalesce(_is_deleted, false)

),

renamed as (

    select
        cast(customer_id as {{ dbt.type_string() }}) as account_id,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(date as date) as spend_date,
        campaign_name,
        campaign_status,
        upper(currency_code) as currency_code,
        time_zone,
        cast(cast(cost_micros as {{ dbt.type_bigint() }}) as {{ type_double() }}) / 1000000.0 as spend,
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(conversions as {{ type_double() }}) as platform_conversions,
        cast(conversions_value as {{ type_double() }}) as platform_conversions_value,
        _loaded_at as loaded_at
    from latest
    where version_rank = 1

)

select * from renamed
