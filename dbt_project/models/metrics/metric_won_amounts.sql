-- Metric families over won deals by week of close (docs/metrics.md#metric-history):
--   won_missing_amount  week  won deals with a null or zero amount, over all won deals
--   won_log_amount      week  median and MAD of ln(amount) of the won deals with an amount
with

deals as (

    select * from {{ ref('fct_deals') }}

),

{{ metric_calendar_ctes(days=false) }},

won_deals as (

    select
        amount_reporting,
        case when amount_reporting > 0 then ln(amount_reporting) end as log_amount,
        {{ metric_week_bucket('closed_at') }} as bucket_index
    from deals
    where
        outcome = 'won'
        and closed_at >= {{ metric_history_start() }}

),

won_weeks as (

    select
        bucket_index,
        count(*) as won,
        sum(case when amount_reporting is null or amount_reporting = 0 then 1 else 0 end) as missing,
        count(log_amount) as with_amount,
        {{ median('log_amount') }} as median_log_amount
    from won_deals
    group by bucket_index

),

won_mads as (

    select
        won_deals.bucket_index,
        {{ median('abs(won_deals.log_amount - won_weeks.median_log_amount)') }} as mad_log_amount
    from won_deals
    inner join won_weeks on won_deals.bucket_index = won_weeks.bucket_index
    where won_deals.log_amount is not null
    group by won_deals.bucket_index

),

won_missing_weekly as (

    select
        weeks.period_start,
        weeks.period_end,
        'week' as grain,
        weeks.bucket_index,
        'won_missing_amount' as metric,
        'all' as segment,
        case
            when coalesce(won_weeks.won, 0) > 0
                then cast(won_weeks.missing * 1.0 / won_weeks.won as {{ type_double() }})
        end as value,
        cast(coalesce(won_weeks.missing, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(won_weeks.won, 0) as {{ type_double() }}) as denominator,
        cast(coalesce(won_weeks.won, 0) as {{ dbt.type_int() }}) as n,
        cast(null as {{ type_double() }}) as mad,
        cast(null as {{ type_double() }}) as p90,
        true as is_complete
    from weeks
    left join won_weeks on weeks.bucket_index = won_weeks.bucket_index

),

won_amount_weekly as (

    select
        weeks.period_start,
        weeks.period_end,
        'week' as grain,
        weeks.bucket_index,
        'won_log_amount' as metric,
        'all' as segment,
        won_weeks.median_log_amount as value,
        cast(null as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        cast(coalesce(won_weeks.with_amount, 0) as {{ dbt.type_int() }}) as n,
        won_mads.mad_log_amount as mad,
        cast(null as {{ type_double() }}) as p90,
        true as is_complete
    from weeks
    left join won_weeks on weeks.bucket_index = won_weeks.bucket_index
    left join won_mads on weeks.bucket_index = won_mads.bucket_index

),

final as (

    select * from won_missing_weekly
    union all
    select * from won_amount_weekly

)

select * from final
