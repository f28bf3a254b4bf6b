-- Metric families over stage changes (visits after a deal's first; docs/metrics.md#metric-history):
--   skip_rate        week           skips over the transitions entered in the week
--   regression_rate  week           regressions over the transitions entered in the week
-- (stage-change bursts and flapping deals are tested on the visits themselves: transition_burst)
with

visits as (

    select * from {{ ref('fct_deal_stage_history') }}

),

{{ metric_calendar_ctes(days=false) }},

transitions as (

    select
        is_skip,
        is_regression,
        cast(
            {{ dbt.datediff('cast(entered_at as date)', as_of_date(), 'day') }}
            as {{ dbt.type_int() }}
        ) as day_index
    from visits
    where
        visit_number > 1
        and entered_at >= {{ metric_history_start() }}

),

transition_weeks as (

    select
        cast(floor(day_index / 7.0) as {{ dbt.type_int() }}) as bucket_index,
        count(*) as transitions,
        sum(case when is_skip then 1 else 0 end) as skips,
        sum(case when is_regression then 1 else 0 end) as regressions
    from transitions
    group by cast(floor(day_index / 7.0) as {{ dbt.type_int() }})

),

{% for metric, column in [('skip_rate', 'skips'), ('regression_rate', 'regressions')] %}
{{ metric }}_weekly as (

    select
        weeks.period_start,
        weeks.period_end,
        'week' as grain,
        weeks.bucket_index,
        '{{ metric }}' as metric,
        'all' as segment,
        case
            when coalesce(transition_weeks.transitions, 0) > 0
                then cast(transition_weeks.{{ column }} * 1.0 / transition_weeks.transitions as {{ type_double() }})
        end as value,
        cast(coalesce(transition_weeks.{{ column }}, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(transition_weeks.transitions, 0) as {{ type_double() }}) as denominator,
        cast(coalesce(transition_weeks.transitions, 0) as {{ dbt.type_int() }}) as n,
        cast(null as {{ type_double() }}) as mad,
        cast(null as {{ type_double() }}) as p90,
        true as is_complete
    from weeks
    left join transition_weeks on weeks.bucket_index = transition_weeks.bucket_index

),
{% endfor %}

final as (

    select * from skip_rate_weekly
    union all
    select * from regression_rate_weekly

)

select * from final
