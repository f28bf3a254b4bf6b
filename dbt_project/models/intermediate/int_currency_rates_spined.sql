-- One row per currency × calendar day: the rate into the reporting currency (dbt var
-- `reporting_currency`) that day, i.e. the latest `currency_rates` rate dated on or before it.
-- The reporting currency converts into itself at 1. Days before a currency's first rate have
-- no row (a snapshot amount in that currency then has no `amount_reporting`, which fails the
-- blocking test `assert_every_snapshot_amount_has_a_rate`).
with

days as (

    select day from {{ ref('int_days_spined') }}

),

reporting_rates as (

    -- the reporting currency is spanned below, at 1 on every day
    select * from ({{ reporting_rates() }}) as rates
    where currency_code <> '{{ var("reporting_currency") }}'

),

dated_rates as (

    select
        reporting_rates.currency_code,
        reporting_rates.rate_date,
        reporting_rates.rate,
        lead(reporting_rates.rate_date) over (
            partition by reporting_rates.currency_code order by reporting_rates.rate_date
        ) as next_rate_date
    from reporting_rates

),

final as (

    select
        dated_rates.currency_code,
        days.day as rate_day,
        dated_rates.rate_date,
        dated_rates.rate
    from dated_rates
    inner join days
        on dated_rates.rate_date <= days.day
        and (dated_rates.next_rate_date is null or dated_rates.next_rate_date > days.day)

    union all

    select
        '{{ var("reporting_currency") }}' as currency_code,
        days.day as rate_day,
        cast('1900-01-01' as date) as rate_date,
        cast(1.0 as {{ type_double() }}) as rate
    from days

)

select * from final
