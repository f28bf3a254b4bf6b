-- Every deal in fct_deals has a first visit (visit_number 1) starting exactly at its created_at.
{{ config(meta={'dagster': {'ref': {'name': 'fct_deal_stage_history'}}}) }}

with

deals as (

    select * from {{ ref('fct_deals') }}

),

first_visits as (

    select deal_id, entered_at
    from {{ ref('fct_deal_stage_history') }}
    where visit_number = 1

)

select
    deals.deal_id,
    deals.created_at,
    first_visits.entered_at as first_visit_entered_at
from deals
left join first_visits on deals.deal_id = first_visits.deal_id
where first_visits.entered_at is null
    or first_visits.entered_at <> deals.created_at
