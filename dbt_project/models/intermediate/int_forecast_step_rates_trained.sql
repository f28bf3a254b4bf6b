-- One row per source × forecast origin × horizon × open funnel step 2–4 (docs/metrics.md,
-- `empirical`): the step's in-period conversion rate r(k, h) learnt over the origin's training
-- origins — the final won amount, in the training target month, of the deals open in step k at
-- each training origin ÷ their amount at that origin — beside the amount open in step k at the
-- origin itself. The rate is null when its denominator is 0.
with

targets as (

    select * from {{ ref('int_forecast_origins_spined') }}

),

training_origins as (

    select * from {{ ref('int_forecast_training_origins_selected') }}

),

open_deals as (

    select * from {{ ref('int_forecast_open_deals_joined') }}

),

steps as (

    select funnel_step_order
    from {{ ref('dim_funnel_steps') }}
    where funnel_step_order between 2 and 4

),

target_steps as (

    select
        targets.source,
        targets.origin_date,
        targets.horizon_months,
        targets.target_month,
        targets.target_end,
        steps.funnel_step_order
    from targets
    cross join steps

),

step_outcomes as (

    select
        target_steps.source,
        target_steps.origin_date,
        target_steps.horizon_months,
        target_steps.funnel_step_order,
        sum(open_deals.amount_reporting_at_origin) as open_amount_reporting,
        sum(
            case
                when
                    open_deals.final_outcome = 'won'
                    and open_deals.final_closed_at >= target_steps.target_month
                    and open_deals.final_closed_at < target_steps.target_end
                    then open_deals.final_amount_reporting
            end
        ) as won_in_target_amount_reporting
    from target_steps
    left join open_deals
        on
        target_steps.source = open_deals.source
        and target_steps.origin_date = open_deals.origin_date
        and target_steps.funnel_step_order = open_deals.funnel_step_order
    group by
        target_steps.source,
        target_steps.origin_date,
        target_steps.horizon_months,
        target_steps.funnel_step_order

),

training as (

    select
        training_origins.source,
        training_origins.origin_date,
        training_origins.horizon_months,
        step_outcomes.funnel_step_order,
        count(*) as training_origin_count,
        sum(coalesce(step_outcomes.open_amount_reporting, 0)) as training_open_amount_reporting,
        sum(coalesce(step_outcomes.won_in_target_amount_reporting, 0)) as training_won_amount_reporting
    from training_origins
    inner join step_outcomes
        on
        training_origins.source = step_outcomes.source
        and training_origins.training_origin_date = step_outcomes.origin_date
        and training_origins.horizon_months = step_outcomes.horizon_months
    group by
        training_origins.source,
        training_origins.origin_date,
        training_origins.horizon_months,
        step_outcomes.funnel_step_order

),

final as (

    select
        step_outcomes.source,
        step_outcomes.origin_date,
        step_outcomes.horizon_months,
        cast(step_outcomes.funnel_step_order as {{ dbt.type_int() }}) as funnel_step_order,
        cast(coalesce(step_outcomes.open_amount_reporting, 0) as {{ type_double() }}) as open_amount_reporting,
        cast(coalesce(training.training_origin_count, 0) as {{ dbt.type_int() }}) as training_origin_count,
        cast(coalesce(training.training_open_amount_reporting, 0) as {{ type_double() }})
            as training_open_amount_reporting,
        cast(coalesce(training.training_won_amount_reporting, 0) as {{ type_double() }})
            as training_won_amount_reporting,
        cast(
            training.training_won_amount_reporting / nullif(training.training_open_amount_reporting, 0)
            as {{ type_double() }}
        ) as conversion_rate
    from step_outcomes
    left join training
        on
        step_outcomes.source = training.source
        and step_outcomes.origin_date = training.origin_date
        and step_outcomes.horizon_months = training.horizon_months
        and step_outcomes.funnel_step_order = training.funnel_step_order

)

select * from final
