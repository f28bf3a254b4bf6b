-- BLOCKING (on int_ad_spend_days_converted, so `dbt build` skips the spend marts when it fails).
-- Every ad account currency needs a rate into the reporting currency dated on or before each
-- spend day. Returns one row per currency with the earliest day that lacks a rate.
{{ config(severity='error') }}

select
    currency_code,
    '{{ var("reporting_currency") }}' as reporting_currency,
    min(spend_date) as first_day_without_rate,
    count(*) as campaign_day_count,
    'add a rate for this currency dated on or before that day to seeds/currency_rates.csv' as fix
from {{ ref('int_ad_spend_days_converted') }}
where rate is null
group by currency_code
