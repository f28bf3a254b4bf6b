-- One row per source × forecast origin × horizon (docs/metrics.md, `mart_forecast_monthly`).
-- Back-test origins: the last day of every month from the month of the first live deal (of any
-- source, as every monthly mart) to the month before `as_of_date`; the live origin: `as_of_date`
-- itself. The target
-- months of origin o are the month of o + 1 day (horizon 0) and the two after it.
with

deals as (

    select * from {{ ref('fct_deals') }}

),

month_numbers as (

    {{ dbt.generate_series(600) }}

),

horizons as (

    select 0 as horizon_months
    union all
    select 1
    union all
    select 2

),

sources as (

    select distinct source from deals

),

first_month as (

    select min({{ month_start('created_at') }}) as first_month from deals

),

first_months as (

    select
        sources.source,
        first_month.first_month
    from sources
    cross join first_month

),

backtest_origins as (

    select
        first_months.source,
        first_months.first_month,
        cast(
            {{ dbt.dateadd('day', -1, dbt.dateadd('month', 'month_numbers.generated_number', 'first_months.first_month')) }}  -- noqa: LT05
            as date
        ) as origin_date,
        true as is_backtest
    from first_months
    cross join month_numbers
    where
        {{ dbt.dateadd('month', 'month_numbers.generated_number', 'first_months.first_month') }}
        <= {{ month_start(as_of_date()) }}

),

live_origins as (

    select
        source,
        first_month,
        {{ as_of_date() }} as origin_date,
        false as is_backtest
    from first_months

),

origins as (

    select * from backtest_origins
    union all
    select * from live_origins

),

targets as (

    select
        origins.source,
        origins.origin_date,
        origins.is_backtest,
        origins.first_month,
        horizons.horizon_months,
        cast({{ dbt.dateadd('day', 1, 'origins.origin_date') }} as timestamp) as origin_end,
        cast(
            {{ dbt.dateadd('month', 'horizons.horizon_months', month_start(dbt.dateadd('day', 1, 'origins.origin_date'))) }}  -- noqa: LT05
            as date
        )
            as target_month
    from origins
    cross join horizons

),

final as (

    select
        source,
        origin_date,
        cast(horizon_months as {{ dbt.type_int() }}) as horizon_months,
        is_backtest,
        first_month,
        origin_end,
        target_month,
        cast({{ dbt.dateadd('month', 1, 'target_month') }} as timestamp) as target_end
    from targets

)

select * from final
