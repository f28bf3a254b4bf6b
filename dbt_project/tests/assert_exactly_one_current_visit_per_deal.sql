-- Every deal has exactly one current visit, and it is its last one (none beyond it).
with

visits as (

    select * from {{ ref('fct_deal_stage_history') }}

),

per_deal as (

    select
        deal_id,
        sum(case when is_current then 1 else 0 end) as current_visits,
        max(visit_number) as last_visit_number,
        max(case when is_current then visit_number end) as current_visit_number
    from visits
    group by deal_id

)

select *
from per_deal
where current_visits <> 1
    or current_visit_number <> last_visit_number
