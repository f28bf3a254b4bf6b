-- One row per deal: its amount converted into the reporting currency (dbt var
-- `reporting_currency`) with the latest `currency_rates` rate dated on or before the day of
-- `closed_at` (open deals: `as_of_date`). A deal without a currency is taken to be in
-- `default_currency` (var, default: the reporting currency). A currency with no such rate
-- leaves `rate` null and fails the blocking test `assert_every_deal_currency_has_a_rate`.
with

deals as (

    select * from {{ ref('int_deals_unioned') }}

),

milestones as (

    select deal_id, closed_at from {{ ref('int_deals_milestones_pivoted') }}

),

conversion_inputs as (

    select
        deals.deal_id,
        deals.amount,
        coalesce(
            deals.currency_code,
            '{{ var("default_currency", none) or var("reporting_currency") }}'
        ) as currency_code,
        coalesce(cast(milestones.closed_at as date), {{ as_of_date() }}) as conversion_date
    from deals
    left join milestones on deals.deal_id = milestones.deal_id

),

needed_rates as (

    {{ latest_rate_on_or_before('conversion_inputs', 'conversion_date') }}

),

final as (

    select
        conversion_inputs.deal_id,
        conversion_inputs.amount,
        conversion_inputs.currency_code,
        conversion_inputs.conversion_date,
        needed_rates.rate_date,
        needed_rates.rate,
        cast(conversion_inputs.amount * needed_rates.rate as {{ type_double() }}) as amount_reporting
    from conversion_inputs
    left join needed_rates
        on conversion_inputs.currency_code = needed_rates.currency_code
        and conversion_inputs.conversion_date = needed_rates.conversion_date

)

select * from final
