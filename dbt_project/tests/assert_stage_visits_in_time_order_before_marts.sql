-- WARN (on int_deal_stage_visits_collapsed). Per deal, no visit ends before it starts and no
-- visit starts before the previous one. The faults that cause this (history before the deal's
-- creation) quarantine the deal upstream (int_records_quarantined), so this is an invariant of
-- the quarantine; it no longer blocks: one bad deal must not stop the marts.
{{ config(severity='warn') }}

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
