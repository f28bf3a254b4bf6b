-- No gaps, no extras: fct_pipeline_snapshot_daily holds exactly one row per deal and day D whose
-- end (next midnight UTC) falls in an open visit (step 2-4) of fct_deal_stage_history, i.e.
-- D from the visit's entry day to the day before its exit day (to `as_of_date` while current),
-- in that visit's stage. Recomputed from the visits, not from the snapshot's own spans.
-- Returns the (deal, day) pairs present on one side only, or in another stage. On both sides
-- only the snapshot rows written since this test last passed (macros/tests_since_last_pass.sql).
{{ config(meta={'dagster': {'ref': {'name': 'fct_pipeline_snapshot_daily'}}}) }}
{%- set written = rows_to_test('snapshot_rows') or 'true' %}

with

visits as (

    select * from {{ ref('fct_deal_stage_history') }}
    where funnel_step_order between 2 and 4

),

days as (

    select day from {{ ref('int_days_spined') }}

),

expected as (

    select * from (
        select visits.deal_id, days.day as snapshot_date, visits.stage_id
        from visits
        inner join days
            on days.day >= cast(visits.entered_at as date)
            and (visits.exited_at is null or days.day < cast(visits.exited_at as date))
    ) as expected_days
    where {{ written }}

),

actual as (

    select deal_id, snapshot_date, stage_id from {{ ref('fct_pipeline_snapshot_daily') }}
    where {{ written }}

)

select
    coalesce(expected.deal_id, actual.deal_id) as deal_id,
    coalesce(expected.snapshot_date, actual.snapshot_date) as snapshot_date,
    expected.stage_id as expected_stage_id,
    actual.stage_id as snapshot_stage_id
from expected
full outer join actual
    on expected.deal_id = actual.deal_id
    and expected.snapshot_date = actual.snapshot_date
where expected.deal_id is null
    or actual.deal_id is null
    or expected.stage_id <> actual.stage_id
