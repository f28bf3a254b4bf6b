-- Campaign-day spend converted into the reporting currency (dbt var `reporting_currency`) with
-- the latest `currency_rates` rate dated on or before the spend day. An account currency with
-- no such rate leaves `rate` null and fails the blocking test
-- `assert_every_ad_spend_currency_has_a_rate`.
with

spend_days as (

    select * from {{ ref('int_ad_spend_days_unioned') }}

),

currency_rates as (

    select * from {{ ref('currency_rates') }}

),

reporting_rates as (

    select rate_date, currency_code, cast(rate as {{ type_double() }}) as rate
    from currency_rates
    where reporting_currency = '{{ var("reporting_currency") }}'

    union all

    -- the reporting currency converts into itself at 1, whatever the seed holds
    select
        cast('1900-01-01' as date) as rate_date,
        '{{ var("reporting_currency") }}' as currency_code,
        cast(1.0 as {{ type_double() }}) as rate

),

needed_rates as (

    select currency_code, spend_date, rate
    from (
        select
            needed.currency_code,
            needed.spend_date,
            reporting_rates.rate,
            row_number() over (
                partition by needed.currency_code, needed.spend_date
                order by reporting_rates.rate_date desc
            ) as rate_rank
        from (select distinct currency_code, spend_date from spend_days) as needed
        inner join reporting_rates
            on needed.currency_code = reporting_rates.currency_code
            and needed.spend_date >= reporting_rates.rate_date
    ) as ranked
    where rate_rank = 1

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
