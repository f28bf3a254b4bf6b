-- BLOCKING (on int_deal_stage_visits_collapsed, so `dbt build` skips the marts when it fails).
-- The marts' own timeline test (assert_stage_visits_never_overlap_nor_end_before_start) runs on
-- fct_deal_stage_history, after the marts are built; this one stops bad visits before them: per
-- deal, no visit ends before it starts and no visit starts before the previous one.
{{ config(severity='error') }}

with

visits as (

    select * from {{ ref('int_deal_stage_visits_collapsed') }}

),

ordered as (

    select
        deal_id,
        source,
        visit_number,
        entered_at,
        exited_at,
        lag(entered_at) over (partition by deal_id order by visit_number) as previous_entered_at
    from visits

)

select
    deal_id,
    source,
    min(visit_number) as first_bad_visit_number,
    count(*) as bad_visits,
    'visits out of order: check this deal''s stage history and created date in the CRM' as fix
from ordered
where exited_at < entered_at
    or entered_at < previous_entered_at
group by deal_id, source
