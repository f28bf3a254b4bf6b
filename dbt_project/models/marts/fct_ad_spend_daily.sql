-- One row per platform × account × campaign × day with activity (docs/metrics.md
-- `marts.fct_ad_spend_daily`), days on or before `as_of_date`, spend also in the reporting
-- currency; channel from `campaign_channel_mapping`, else the platform's paid channel.
with

spend_days as (

    select * from {{ ref('int_ad_spend_days_converted') }}

),

channel_mapping as (

    select * from {{ ref('campaign_channel_mapping') }}

),

final as (

    select
        spend_days.spend_date,
        spend_days.platform,
        spend_days.account_id,
        spend_days.campaign_id,
        spend_days.campaign_name,
        coalesce(
            lower(channel_mapping.channel),
            case spend_days.platform when 'google_ads' then 'paid_search' when 'meta' then 'paid_social' end
        ) as channel,
        spend_days.currency_code,
        cast(spend_days.spend as {{ type_double() }}) as spend,
        cast(spend_days.spend_reporting as {{ type_double() }}) as spend_reporting,
        cast(spend_days.impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(spend_days.clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(spend_days.platform_conversions as {{ type_double() }}) as platform_conversions
    from spend_days
    left join channel_mapping
        on spend_days.platform = channel_mapping.platform
        and spend_days.campaign_id = channel_mapping.campaign_id
    where spend_days.spend_date <= {{ as_of_date() }}

)

select * from final
