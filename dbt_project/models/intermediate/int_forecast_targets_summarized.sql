-- One row per source × forecast origin × target month (docs/metrics.md): what each method adds up.
-- `actual` is known only once the target month has ended by `as_of`; `booked` is the part of it
-- closed before the end of the origin's day (non-zero only for a live origin inside a month);
-- the CRM-weighted pipeline counts deals whose expected close date (as of the origin) is in the
-- target month, overdue ones (on or before the origin) in horizon 0; the naive run-rate is the
-- mean actual of the three calendar months before the month of origin + 1 day.
with

targets as (

    select * from {{ ref('int_forecast_origins_spined') }}

),

open_deals as (

    select * from {{ ref('int_forecast_open_deals_joined') }}

),

deals as (

    select * from {{ ref('fct_deals') }}

),

won_deals as (

    select
        source,
        created_at,
        closed_at,
        amount_reporting
    from deals
    where outcome = 'won'

),

pipeline as (

    select
        targets.source,
        targets.origin_date,
        targets.horizon_months,
        count(open_deals.deal_id) as open_deal_count,
        sum(
            case
                when
                    open_deals.expected_close_date_at_origin >= targets.target_month
                    and open_deals.expected_close_date_at_origin < targets.target_end
                    then open_deals.weighted_amount_reporting_at_origin
                when targets.horizon_months = 0 and open_deals.expected_close_date_at_origin <= targets.origin_date
                    then open_deals.weighted_amount_reporting_at_origin
            end
        ) as crm_weighted_pipeline_amount_reporting
    from targets
    left join open_deals
        on
        targets.source = open_deals.source
        and targets.origin_date = open_deals.origin_date
    group by targets.source, targets.origin_date, targets.horizon_months

),

won_in_target as (

    select
        targets.source,
        targets.origin_date,
        targets.horizon_months,
        sum(won_deals.amount_reporting) as won_amount_reporting,
        sum(case when won_deals.closed_at < targets.origin_end then won_deals.amount_reporting end)
            as booked_amount_reporting,
        sum(case when won_deals.created_at >= targets.origin_end then won_deals.amount_reporting end)
            as new_deals_won_amount_reporting
    from targets
    inner join won_deals
        on
        targets.source = won_deals.source
        and targets.target_month <= won_deals.closed_at
        and targets.target_end > won_deals.closed_at
    group by targets.source, targets.origin_date, targets.horizon_months

),

run_rate as (

    select
        targets.source,
        targets.origin_date,
        sum(won_deals.amount_reporting) as won_amount_reporting
    from targets
    inner join won_deals
        on
        targets.source = won_deals.source
        and won_deals.closed_at >= {{ dbt.dateadd('month', -3, 'targets.target_month') }}
        and targets.target_month > won_deals.closed_at
    where targets.horizon_months = 0
    group by targets.source, targets.origin_date

),

final as (

    select
        targets.source,
        targets.origin_date,
        targets.horizon_months,
        targets.is_backtest,
        targets.origin_end,
        targets.target_month,
        targets.target_end,
        cast(pipeline.open_deal_count as {{ dbt.type_int() }}) as open_deal_count,
        cast(coalesce(pipeline.crm_weighted_pipeline_amount_reporting, 0) as {{ type_double() }})
            as crm_weighted_pipeline_amount_reporting,
        cast(coalesce(won_in_target.booked_amount_reporting, 0) as {{ type_double() }}) as booked_amount_reporting,
        cast(coalesce(won_in_target.new_deals_won_amount_reporting, 0) as {{ type_double() }})
            as new_deals_won_amount_reporting,
        cast(
            case
                when targets.target_end <= {{ as_of() }}
                    then coalesce(won_in_target.won_amount_reporting, 0)
            end as {{ type_double() }}
        ) as actual_won_amount_reporting,
        cast(
            case
                when
                    {{ dbt.dateadd('month', -3, month_start(dbt.dateadd('day', 1, 'targets.origin_date'))) }}
                    >= targets.first_month
                    then coalesce(run_rate.won_amount_reporting, 0) / 3.0
            end as {{ type_double() }}
        ) as naive_amount_reporting
    from targets
    inner join pipeline
        on
        targets.source = pipeline.source
        and targets.origin_date = pipeline.origin_date
        and targets.horizon_months = pipeline.horizon_months
    left join won_in_target
        on
        targets.source = won_in_target.source
        and targets.origin_date = won_in_target.origin_date
        and targets.horizon_months = won_in_target.horizon_months
    left join run_rate
        on
        targets.source = run_rate.source
        and targets.origin_date = run_rate.origin_date

)

select * from final
