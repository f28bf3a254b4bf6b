-- BLOCKING (on int_deal_stage_changes_unioned, so `dbt build` skips the marts when it fails).
-- A stage-history entry earlier than its deal's created_at is a structural fault (docs/metrics.md):
-- it is never silently moved. Returns the deal and its earliest offending entry.
{{ config(severity='error') }}

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
