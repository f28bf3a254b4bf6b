-- BLOCKING (on int_deals_amounts_converted, so `dbt build` skips the marts when it fails).
-- Every deal's currency needs a rate into the reporting currency dated on or before the day its
-- amount is converted on (day of closed_at, or as_of_date for open deals). Returns one row per
-- currency with the earliest day that lacks a rate.
{{ config(severity='error') }}

select
    currency_code,
    '{{ var("reporting_currency") }}' as reporting_currency,
    min(conversion_date) as first_day_without_rate,
    count(*) as deal_count,
    'add a rate for this currency dated on or before that day to seeds/currency_rates.csv' as fix
from {{ ref('int_deals_amounts_converted') }}
where rate is null
group by currency_code
