-- BLOCKING (on fct_pipeline_snapshot_daily, so `dbt build` skips the marts built from it).
-- Every snapshot amount needs a rate into the reporting currency dated on or before its day
-- (the currency the deal had that day, which may differ from its current one). Returns one row
-- per currency with the earliest day that lacks a rate.
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_pipeline_snapshot_daily'}}}) }}

select
    currency_code,
    '{{ var("reporting_currency") }}' as reporting_currency,
    min(snapshot_date) as first_day_without_rate,
    count(distinct deal_id) as deal_count,
    'add a rate for this currency dated on or before that day to seeds/currency_rates.csv' as fix
from {{ ref('fct_pipeline_snapshot_daily') }}
where amount is not null and amount_reporting is null
    -- the rows written since this test last passed (macros/tests_since_last_pass.sql)
    and {{ rows_to_test('snapshot_rows') or 'true' }}
group by currency_code
