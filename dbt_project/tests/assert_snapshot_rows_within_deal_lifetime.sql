-- fct_pipeline_snapshot_daily has no row after `as_of_date`, none before the UTC day of the
-- deal's creation, and none for a deal fct_deals does not show (archived, deleted, merged or
-- created after `as_of`). Returns the offending rows.
{{ config(meta={'dagster': {'ref': {'name': 'fct_pipeline_snapshot_daily'}}}) }}

select
    snapshots.deal_id,
    snapshots.snapshot_date,
    deals.created_at,
    case
        when deals.deal_id is null then 'deal not in fct_deals'
        when snapshots.snapshot_date > {{ as_of_date() }} then 'after as_of_date'
        else 'before the deal was created'
    end as problem
from (
    -- the rows written since this test last passed (macros/tests_since_last_pass.sql)
    select * from {{ ref('fct_pipeline_snapshot_daily') }}
    where {{ rows_to_test('snapshot_rows') or 'true' }}
) snapshots
left join {{ ref('fct_deals') }} deals on snapshots.deal_id = deals.deal_id
where deals.deal_id is null
    or snapshots.snapshot_date > {{ as_of_date() }}
    or snapshots.snapshot_date < cast(deals.created_at as date)
