-- visit_number runs 1, 2, ..., n per deal with no gaps or duplicates, in time order.
with

visits as (

    select * from {{ ref('fct_deal_stage_history') }}

),

per_deal as (

    select
        deal_id,
        count(*) as visit_count,
        count(distinct visit_number) as distinct_visit_numbers,
        min(visit_number) as first_visit_number,
        max(visit_number) as last_visit_number
    from visits
    group by deal_id

),

out_of_order as (

    select deal_id
    from (
        select
            deal_id,
            entered_at,
            lag(entered_at) over (partition by deal_id order by visit_number) as previous_entered_at
        from visits
    ) ordered
    where entered_at < previous_entered_at

)

select per_deal.deal_id, 'numbering' as problem
from per_deal
where first_visit_number <> 1
    or last_visit_number <> visit_count
    or distinct_visit_numbers <> visit_count
union all
select deal_id, 'time order' as problem
from out_of_order
