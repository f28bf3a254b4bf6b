-- Every ad platform's campaign-day spend in one shape: platform, account, campaign, the
-- account's own day, spend in the account currency, the campaign's latest name (the campaign
-- list's current name; failing that, the name on the most recently loaded row), and the
-- platform's own conversion count.
with

google_stats as (

    select * from {{ ref('stg_google_ads__campaign_stats') }}

),

google_campaigns as (

    select * from {{ ref('stg_google_ads__campaigns') }}

),

meta_insights as (

    select * from {{ ref('stg_meta__campaign_insights') }}

),

meta_campaigns as (

    select * from {{ ref('stg_meta__campaigns') }}

),

stats as (

    {{ union_branches(
        {'google_ads': 'google_stats', 'meta': 'meta_insights'},
        [
            'account_id', 'campaign_id', 'spend_date', 'campaign_name', 'currency_code', 'spend', 'impressions',
            'clicks', 'platform_conversions', 'loaded_at'
        ],
        label_column='platform'
    ) }}

),

listed_names as (

    {{ union_branches(
        {'google_ads': 'google_campaigns', 'meta': 'meta_campaigns'},
        ['account_id', 'campaign_id', 'campaign_name'],
        label_column='platform'
    ) }}

),

row_names as (

    select platform, account_id, campaign_id, campaign_name
    from (
        select
            platform,
            account_id,
            campaign_id,
            campaign_name,
            row_number() over (
                partition by platform, account_id, campaign_id
                order by loaded_at desc, spend_date desc
            ) as name_rank
        from stats
    ) as ranked
    where name_rank = 1

),

final as (

    select
        stats.platform,
        stats.account_id,
        stats.campaign_id,
        stats.spend_date,
        coalesce(listed_names.campaign_name, row_names.campaign_name) as campaign_name,
        stats.currency_code,
        stats.spend,
        coalesce(stats.impressions, 0) as impressions,
        coalesce(stats.clicks, 0) as clicks,
        coalesce(stats.platform_conversions, 0) as platform_conversions
    from stats
    left join listed_names
        on stats.platform = listed_names.platform
        and stats.account_id = listed_names.account_id
        and stats.campaign_id = listed_names.campaign_id
    left join row_names
        on stats.platform = row_names.platform
        and stats.account_id = row_names.account_id
        and stats.campaign_id = row_names.campaign_id

)

select * from final
