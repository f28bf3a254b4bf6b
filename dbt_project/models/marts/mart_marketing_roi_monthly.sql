-- One row per month × channel with spend or leads (docs/metrics.md `marts.mart_marketing_roi_monthly`).
-- Cohort-aligned: a lead belongs to its UTC creation month and its current channel (every CRM
-- together, each CRM's channel mapped onto the marketing channel by the seed
-- `lead_channel_mapping`); its deals (by `fct_deals.lead_id`) and revenue count in that month,
-- whenever they close. Spend joins by channel and the month of `spend_date` (the account's day).
-- Ratios are null without spend or with a zero denominator, never infinite.
with

leads as (

    select * from {{ ref('int_leads_unioned') }}

),

deals as (

    select * from {{ ref('fct_deals') }}

),

spend_days as (

    select * from {{ ref('fct_ad_spend_daily') }}

),

channel_mapping as (

    select * from {{ ref('lead_channel_mapping') }}

),

monthly_spend as (

    select
        {{ month_start('spend_date') }} as month,
        channel,
        sum(spend_reporting) as spend_reporting
    from spend_days
    group by {{ month_start('spend_date') }}, channel

),

lead_cohorts as (

    -- the CRM's channel mapped onto the marketing channel spend carries (seed; unmapped: as is)
    select
        {{ month_start('leads.created_at') }} as month,
        coalesce(channel_mapping.marketing_channel, leads.channel) as channel,
        leads.lead_id
    from leads
    left join channel_mapping
        on leads.source = channel_mapping.source
        and leads.channel = channel_mapping.channel

),

monthly_leads as (

    select month, channel, count(*) as leads
    from lead_cohorts
    group by month, channel

),

cohort_deals as (

    -- deals (live, created before as_of: fct_deals) whose lead is a cohort lead: the primary
    -- contact (HubSpot) or the lead the deal was converted from (Pipedrive), fct_deals.lead_id
    select
        lead_cohorts.month,
        lead_cohorts.channel,
        lead_cohorts.lead_id,
        deals.deal_id,
        deals.outcome,
        deals.amount_reporting
    from lead_cohorts
    inner join deals
        on lead_cohorts.lead_id = deals.lead_id

),

monthly_deals as (

    select
        month,
        channel,
        count(distinct deal_id) as deals_created,
        count(distinct case when outcome = 'won' then lead_id end) as new_customers,
        sum(case when outcome = 'won' then coalesce(amount_reporting, 0) else 0 end) as won_revenue_reporting
    from cohort_deals
    group by month, channel

),

months_channels as (

    select month, channel from monthly_spend
    union
    select month, channel from monthly_leads

),

maturity as (

    select cast(percentile_cont(0.9) within group (order by cycle_days) as {{ type_double() }}) as p90_cycle_days
    from deals
    where outcome = 'won'

),

joined as (

    select
        months_channels.month,
        months_channels.channel,
        coalesce(monthly_spend.spend_reporting, 0) as spend_reporting,
        coalesce(monthly_leads.leads, 0) as leads,
        coalesce(monthly_deals.deals_created, 0) as deals_created,
        coalesce(monthly_deals.new_customers, 0) as new_customers,
        coalesce(monthly_deals.won_revenue_reporting, 0) as won_revenue_reporting,
        {{ days_between(
            dbt.dateadd('month', 1, 'cast(months_channels.month as timestamp)'),
            as_of()
        ) }} as days_since_month_end,
        maturity.p90_cycle_days
    from months_channels
    cross join maturity
    left join monthly_spend
        on months_channels.month = monthly_spend.month and months_channels.channel = monthly_spend.channel
    left join monthly_leads
        on months_channels.month = monthly_leads.month and months_channels.channel = monthly_leads.channel
    left join monthly_deals
        on months_channels.month = monthly_deals.month and months_channels.channel = monthly_deals.channel

),

final as (

    select
        month,
        channel,
        cast(spend_reporting as {{ type_double() }}) as spend_reporting,
        cast(leads as {{ dbt.type_int() }}) as leads,
        cast(case when spend_reporting > 0 and leads > 0 then spend_reporting / leads end as {{ type_double() }})
            as cost_per_lead,
        cast(deals_created as {{ dbt.type_int() }}) as deals_created,
        cast(new_customers as {{ dbt.type_int() }}) as new_customers,
        cast(won_revenue_reporting as {{ type_double() }}) as won_revenue_reporting,
        cast(
            case when spend_reporting > 0 and new_customers > 0 then spend_reporting / new_customers end
            as {{ type_double() }}
        ) as cac,
        cast(case when spend_reporting > 0 then won_revenue_reporting / spend_reporting end as {{ type_double() }})
            as roas,
        cast(
            case when spend_reporting > 0 then (won_revenue_reporting - spend_reporting) / spend_reporting end
            as {{ type_double() }}
        ) as roi,
        coalesce(days_since_month_end >= p90_cycle_days, false) as is_mature
    from joined

)

select * from final
