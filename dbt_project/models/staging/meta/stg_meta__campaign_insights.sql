with

source as (

    select * from {{ source('raw_meta', 'campaign_insights') }}

),

latest as (

    select
        *,
        row_number() over (
            partition by account_id, campaign_id, date_start order by _loaded_at desc, _sync_id desc
        ) as version_rank
    from source
    where not coalesce(_is_deleted, false)

),

renamed as (

    select
        cast(latest.account_id as {{ dbt.type_string() }}) as account_id,
        cast(latest.campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(latest.date_start as date) as spend_date,
        latest.campaign_name,
        upper(latest.account_currency) as currency_code,
        cast(latest.spend as {{ type_double() }}) as spend,
        cast(latest.impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(latest.clicks as {{ dbt.type_bigint() }}) as clicks,
        coalesce({{ meta_action_value('latest.actions', 'lead') }}, 0) as platform_conversions,
        latest._loaded_at as loaded_at
    from latest
    where latest.version_rank = 1

)

select * from renamed
