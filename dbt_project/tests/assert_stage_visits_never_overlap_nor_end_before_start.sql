-- Per deal, visits form one unbroken timeline: no visit ends before it starts, each visit
-- ends exactly when the next one starts, and only the last visit is open.
with

visits as (

    select * from {{ ref('fct_deal_stage_history') }}

),

neighbours as (

    select
        deal_id,
        visit_number,
        entered_at,
        exited_at,
        lead(entered_at) over (partition by deal_id order by visit_number) as next_entered_at
    from visits

)

select *
from neighbours
where exited_at < entered_at
    or (next_entered_at is not null and (exited_at is null or exited_at <> next_entered_at))
    or (next_entered_at is null and exited_at is not null)
