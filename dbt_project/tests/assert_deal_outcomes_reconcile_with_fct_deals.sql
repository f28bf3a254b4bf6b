-- mart_deal_outcomes_monthly adds up to fct_deals: per source, won and lost counts and the won
-- amount in the reporting currency equal those of the closed deals (within rounding).
{{ config(meta={'dagster': {'ref': {'name': 'mart_deal_outcomes_monthly'}}}) }}

with

mart as (

    select
        source,
        sum(won_count) as won_count,
        sum(lost_count) as lost_count,
        coalesce(sum(won_amount_reporting), 0) as won_amount_reporting
    from {{ ref('mart_deal_outcomes_monthly') }}
    group by source

),

deals as (

    select
        source,
        sum(case when outcome = 'won' then 1 else 0 end) as won_count,
        sum(case when outcome = 'lost' then 1 else 0 end) as lost_count,
        coalesce(sum(case when outcome = 'won' then amount_reporting end), 0) as won_amount_reporting
    from {{ ref('fct_deals') }}
    group by source

)

select
    coalesce(mart.source, deals.source) as source,
    mart.won_count as mart_won,
    deals.won_count as deals_won,
    mart.lost_count as mart_lost,
    deals.lost_count as deals_lost,
    mart.won_amount_reporting as mart_won_amount,
    deals.won_amount_reporting as deals_won_amount
from mart
full outer join deals on mart.source = deals.source
where coalesce(mart.won_count, 0) <> coalesce(deals.won_count, 0)
    or coalesce(mart.lost_count, 0) <> coalesce(deals.lost_count, 0)
    or abs(coalesce(mart.won_amount_reporting, 0) - coalesce(deals.won_amount_reporting, 0)) > 0.01
