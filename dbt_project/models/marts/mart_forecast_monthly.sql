-- One row per origin × target month × source × method (docs/metrics.md `marts.mart_forecast_monthly`),
-- also when the forecast is null. Methods:
-- - crm_weighted: booked + the CRM-weighted open pipeline expected to close in the target month;
-- - empirical: booked + Σ over steps r(k, h) × amount open in step k + the mean won amount of
--   deals created after their training origin; null with fewer than 3 training origins or when
--   a step's training denominator is 0;
-- - naive: the mean actual of the three calendar months before the month of origin + 1 day.
with

targets as (

    select * from {{ ref('int_forecast_targets_summarized') }}

),

step_rates as (

    select * from {{ ref('int_forecast_step_rates_trained') }}

),

training_origins as (

    select * from {{ ref('int_forecast_training_origins_selected') }}

),

methods as (

    select 'crm_weighted' as method
    union all
    select 'empirical'
    union all
    select 'naive'

),

empirical_pipeline as (

    select
        source,
        origin_date,
        horizon_months,
        sum(conversion_rate * open_amount_reporting) as expected_won_amount_reporting,
        sum(case when conversion_rate is null then 1 else 0 end) as steps_without_rate
    from step_rates
    group by source, origin_date, horizon_months

),

new_business as (

    select
        training_origins.source,
        training_origins.origin_date,
        training_origins.horizon_months,
        count(*) as training_origin_count,
        avg(training_targets.new_deals_won_amount_reporting) as new_deals_won_amount_reporting
    from training_origins
    inner join targets as training_targets
        on
        training_origins.source = training_targets.source
        and training_origins.training_origin_date = training_targets.origin_date
        and training_origins.horizon_months = training_targets.horizon_months
    group by training_origins.source, training_origins.origin_date, training_origins.horizon_months

),

forecasts as (

    select
        targets.source,
        targets.origin_date,
        targets.horizon_months,
        targets.booked_amount_reporting + targets.crm_weighted_pipeline_amount_reporting as crm_weighted,
        case
            when coalesce(new_business.training_origin_count, 0) >= 3 and empirical_pipeline.steps_without_rate = 0
                then
                    targets.booked_amount_reporting
                    + empirical_pipeline.expected_won_amount_reporting
                    + new_business.new_deals_won_amount_reporting
        end as empirical,
        targets.naive_amount_reporting as naive
    from targets
    inner join empirical_pipeline
        on
        targets.source = empirical_pipeline.source
        and targets.origin_date = empirical_pipeline.origin_date
        and targets.horizon_months = empirical_pipeline.horizon_months
    left join new_business
        on
        targets.source = new_business.source
        and targets.origin_date = new_business.origin_date
        and targets.horizon_months = new_business.horizon_months

),

final as (

    select
        targets.origin_date,
        targets.target_month,
        targets.source,
        methods.method,
        targets.horizon_months,
        targets.is_backtest,
        cast(
            case methods.method
                when 'crm_weighted' then forecasts.crm_weighted
                when 'empirical' then forecasts.empirical
                else forecasts.naive
            end as {{ type_double() }}
        ) as forecast_amount_reporting,
        targets.booked_amount_reporting,
        targets.open_deal_count,
        targets.actual_won_amount_reporting
    from targets
    inner join forecasts
        on
        targets.source = forecasts.source
        and targets.origin_date = forecasts.origin_date
        and targets.horizon_months = forecasts.horizon_months
    cross join methods

)

select * from final
