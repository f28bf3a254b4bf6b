-- fct_deals agrees with its current visit in fct_deal_stage_history: same stage and step;
-- outcome open exactly when the step is open; closed_at is the current visit's start for closed
-- deals and null for open ones; the visit flags add up to the deal's counts.
{{ config(meta={'dagster': {'ref': {'name': 'fct_deals'}}}) }}

with

deals as (

    select * from {{ ref('fct_deals') }}

),

visits as (

    select * from {{ ref('fct_deal_stage_history') }}

),

per_deal as (

    select
        deal_id,
        max(case when is_current then stage_id end) as current_stage_id,
        max(case when is_current then funnel_step end) as current_funnel_step,
        max(case when is_current then entered_at end) as current_entered_at,
        max(funnel_step_order) as max_funnel_step_order,
        sum(case when is_regression then 1 else 0 end) as regression_count,
        sum(case when is_skip then 1 else 0 end) as skip_count
    from visits
    group by deal_id

)

select deals.deal_id
from deals
inner join per_deal on deals.deal_id = per_deal.deal_id
where deals.current_stage_id <> per_deal.current_stage_id
    or deals.current_funnel_step <> per_deal.current_funnel_step
    or deals.outcome <> case
        when per_deal.current_funnel_step in ('won', 'lost') then per_deal.current_funnel_step
        else 'open'
    end
    or (deals.outcome = 'open' and deals.closed_at is not null)
    or (deals.outcome <> 'open' and (deals.closed_at is null or deals.closed_at <> per_deal.current_entered_at))
    or coalesce(deals.max_funnel_step_order, -1) <> coalesce(per_deal.max_funnel_step_order, -1)
    or deals.regression_count <> per_deal.regression_count
    or deals.skip_count <> per_deal.skip_count
