-- One row per source × forecast origin o × horizon h × training origin o′ (docs/metrics.md,
-- `empirical`): the at most 12 latest back-test origins o′ < o whose horizon-h target month had
-- ended by the end of o's day. Only what was known at o is ever learnt from.
with

targets as (

    select * from {{ ref('int_forecast_origins_spined') }}

),

candidates as (

    select
        targets.source,
        targets.origin_date,
        targets.horizon_months,
        training.origin_date as training_origin_date,
        row_number() over (
            partition by targets.source, targets.origin_date, targets.horizon_months
            order by training.origin_date desc
        ) as recency_rank
    from targets
    inner join targets as training
        on
        targets.source = training.source
        and targets.horizon_months = training.horizon_months
        and training.is_backtest
        and targets.origin_date > training.origin_date
        and targets.origin_end >= training.target_end

),

final as (

    select
        source,
        origin_date,
        horizon_months,
        training_origin_date,
        cast(recency_rank as {{ dbt.type_int() }}) as recency_rank
    from candidates
    where recency_rank <= 12

)

select * from final
