-- One row per source × method × horizon (docs/metrics.md `marts.mart_forecast_accuracy`): the
-- back-test error over rows with a known actual above 0 and a non-null forecast. WAPE and bias
-- are sums of errors over the sum of actuals, MAPE the mean relative error; skill compares the
-- method's WAPE with the naive baseline's over the rows where both forecasts exist.
with

forecasts as (

    select * from {{ ref('mart_forecast_monthly') }}
    where is_backtest

),

combinations as (

    select distinct source, method, horizon_months
    from forecasts

),

scored as (

    select
        forecasts.source,
        forecasts.method,
        forecasts.horizon_months,
        forecasts.forecast_amount_reporting as forecast_amount,
        forecasts.actual_won_amount_reporting as actual_amount,
        naive.forecast_amount_reporting as naive_amount
    from forecasts
    left join forecasts as naive
        on
        forecasts.source = naive.source
        and forecasts.origin_date = naive.origin_date
        and forecasts.target_month = naive.target_month
        and naive.method = 'naive'
    where
        forecasts.actual_won_amount_reporting > 0
        and forecasts.forecast_amount_reporting is not null

),

errors as (

    select
        source,
        method,
        horizon_months,
        count(*) as n_origins,
        sum(abs(forecast_amount - actual_amount)) / sum(actual_amount) as wape,
        sum(forecast_amount - actual_amount) / sum(actual_amount) as bias,
        avg(abs(forecast_amount - actual_amount) / actual_amount) as mape,
        sum(case when naive_amount is not null then abs(forecast_amount - actual_amount) end)
        / nullif(sum(case when naive_amount is not null then actual_amount end), 0) as paired_wape,
        sum(case when naive_amount is not null then abs(naive_amount - actual_amount) end)
        / nullif(sum(case when naive_amount is not null then actual_amount end), 0) as paired_naive_wape
    from scored
    group by source, method, horizon_months

),

final as (

    select
        combinations.source,
        combinations.method,
        combinations.horizon_months,
        cast(coalesce(errors.n_origins, 0) as {{ dbt.type_int() }}) as n_origins,
        cast(errors.wape as {{ type_double() }}) as wape,
        cast(errors.bias as {{ type_double() }}) as bias,
        cast(errors.mape as {{ type_double() }}) as mape,
        cast(1 - errors.paired_wape / nullif(errors.paired_naive_wape, 0) as {{ type_double() }}) as skill_vs_naive
    from combinations
    left join errors
        on
        combinations.source = errors.source
        and combinations.method = errors.method
        and combinations.horizon_months = errors.horizon_months

)

select * from final
