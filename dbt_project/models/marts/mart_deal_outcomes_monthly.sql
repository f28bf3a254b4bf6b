-- One row per close month x source with closed deals (docs/metrics.md). A deal counts once,
-- with its current outcome, in the month of its `closed_at`. Amount figures use won deals with a
-- non-null amount (zero included), in the reporting currency; `won_amount_reporting` is null when
-- there is none.
with

deals as (

    select * from {{ ref('fct_deals') }}

),

closed_deals as (

    select
        {{ month_start('closed_at') }} as close_month,
        source,
        outcome,
        case when outcome = 'won' then amount_reporting end as won_amount_reporting,
        case when outcome = 'won' then cycle_days end as won_cycle_days
    from deals
    where outcome in ('won', 'lost')

),

final as (

    select
        close_month,
        source,
        cast(sum(case when outcome = 'won' then 1 else 0 end) as {{ dbt.type_int() }}) as won_count,
        cast(sum(case when outcome = 'lost' then 1 else 0 end) as {{ dbt.type_int() }}) as lost_count,
        cast(sum(case when outcome = 'won' then 1 else 0 end) * 1.0 / count(*) as {{ type_double() }}) as win_rate,
        cast(sum(won_amount_reporting) as {{ type_double() }}) as won_amount_reporting,
        cast(avg(won_amount_reporting) as {{ type_double() }}) as avg_won_deal_value,
        {{ median('won_amount_reporting') }} as median_won_deal_value,
        cast(avg(won_cycle_days) as {{ type_double() }}) as avg_cycle_days_won,
        {{ median('won_cycle_days') }} as median_cycle_days_won,
        -- won deals left out of the amount figures: won_count = these + those with an amount
        cast(
            sum(case when outcome = 'won' and won_amount_reporting is null then 1 else 0 end)
            as {{ dbt.type_int() }}
        ) as won_without_amount_count
    from closed_deals
    group by close_month, source

)

select * from final
