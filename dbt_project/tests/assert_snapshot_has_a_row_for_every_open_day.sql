-- No gaps, no extras: fct_pipeline_snapshot_daily holds exactly one row per deal and day D whose
-- end (next midnight UTC) falls in an open visit (step 2-4) of fct_deal_stage_history, i.e.
-- D from the visit's entry day to the day before its exit day (to `as_of_date` while current),
-- in that visit's stage. Recomputed from the visits (macros/visit_open_days.sql), not from the
-- snapshot's own spans.
-- Returns the (deal, day) pairs present on one side only, or in another stage. On both sides
-- only the snapshot rows written since this test last passed (macros/tests_since_last_pass.sql):
-- every day of the deals built since, and the days after `after_day` of the other deals, as two
-- branches, so that neither side expands the visits of deals it does not test.
{{ config(meta={'dagster': {'ref': {'name': 'fct_pipeline_snapshot_daily'}}}) }}
{%- set scope = snapshot_rows_to_test() %}

with

visits as (

    select * from {{ ref('fct_deal_stage_history') }}
    where funnel_step_order between 2 and 4

),

days as (

    select day from {{ ref('int_days_spined') }}

),

{% if scope is none -%}

expected as (

    {{ visit_open_days('visits', 'days') }}

),

actual as (

    select deal_id, snapshot_date, stage_id from {{ ref('fct_pipeline_snapshot_daily') }}

),

{%- else -%}

tested_deals as (

    {{ scope.deals }}

),

expected as (

    -- every day of the deals built since the last pass
    {{ visit_open_days('visits', 'days', where='visits.deal_id in (select tested_deals.deal_id from tested_deals)') }}

    union all

    -- the days after `after_day` of every other deal
    {{ visit_open_days(
        'visits',
        '(select day from days where day > ' ~ scope.after_day ~ ')',
        where='visits.deal_id not in (select tested_deals.deal_id from tested_deals)'
    ) }}

),

actual as (

    select deal_id, snapshot_date, stage_id from {{ ref('fct_pipeline_snapshot_daily') }}
    where snapshot_date > {{ scope.after_day }}
        or deal_id in (select tested_deals.deal_id from tested_deals)

),

{%- endif %}

final as (

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

)

select * from final
