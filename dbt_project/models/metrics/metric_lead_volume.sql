-- Metric family `leads`: new leads per day x channel over the history window, zero-filled so a
-- collapse shows as 0 (docs/metrics.md#metric-history).
with

lead_volume as (

    select * from {{ ref('mart_lead_volume_daily') }}

),

{{ metric_calendar_ctes(weeks=false) }},

lead_channels as (

    select distinct channel
    from lead_volume
    where lead_date > cast({{ dbt.dateadd('day', -metric_history_days(), as_of_date()) }} as date)

),

lead_counts as (

    select
        lead_date,
        channel,
        sum(new_leads) as new_leads
    from lead_volume
    group by lead_date, channel

),

final as (

    select
        days.period_start,
        days.period_end,
        'day' as grain,
        days.bucket_index,
        'leads' as metric,
        lead_channels.channel as segment,
        cast(coalesce(lead_counts.new_leads, 0) as {{ type_double() }}) as value,
        cast(coalesce(lead_counts.new_leads, 0) as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        cast(coalesce(lead_counts.new_leads, 0) as {{ dbt.type_int() }}) as n,
        cast(null as {{ type_double() }}) as mad,
        cast(null as {{ type_double() }}) as p90,
        true as is_complete
    from days
    cross join lead_channels
    left join lead_counts
        on days.period_start = lead_counts.lead_date
        and lead_channels.channel = lead_counts.channel

)

select * from final
