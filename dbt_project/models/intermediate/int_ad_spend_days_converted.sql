-- Campaign-day spend converted into the reporting currency (dbt var `reporting_currency`) with
-- the latest `currency_rates` rate dated on or before the spend day. An account currency with
-- no such rate leaves `rate` null and fails the blocking test
-- `assert_every_ad_spend_currency_has_a_rate`.
with

spend_days as (

    select * from {{ ref('int_ad_spend_days_unioned') }}

),

needed_rates as (

    {{ latest_rate_on_or_before('spend_days', 'spend_date') }}

),

final as (

    select
        spend_days.*,
        needed_rates.rate,
        cast(spend_days.spend * needed_rates.rate as {{ type_double() }}) as spend_reporting
    from spend_days
    left join needed_rates
        on spend_days.currency_code = needed_rates.currency_code
        and spend_days.spend_date = needed_rates.spend_date

)

select * from final  -- noqa: AM04
