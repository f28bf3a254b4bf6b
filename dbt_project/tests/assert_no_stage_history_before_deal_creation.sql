-- WARN, an invariant of the quarantine (docs/metrics.md "Quarantine"): a stage-history entry
-- earlier than its deal's created_at quarantines the deal (rule
-- stage_change_before_deal_creation in int_records_quarantined), which int_deals_unioned then
-- leaves out, so no such entry should reach this model. Never blocking: one bad deal must not
-- stop the marts. Returns the deal and its earliest offending entry.
{{ config(severity='warn') }}

select
    deal_id,
    source,
    source_deal_id,
    min(deal_created_at) as deal_created_at,
    min(changed_at) as earliest_change_at,
    count(*) as entries_before_creation,
    'history entry before the deal''s creation: check the CRM''s createdate and stage history of this deal' as fix
from {{ ref('int_deal_stage_changes_unioned') }}
where changed_at < deal_created_at
group by deal_id, source, source_deal_id
