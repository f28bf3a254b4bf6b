{%- set flap_changes = var('anomaly_flap_changes_per_day') | int -%}
-- Metric families over stage changes (visits after a deal's first; docs/metrics.md#metric-history):
--   transitions      day x to-step  stage changes into the step
--   flapping_deals   day            deals with >= anomaly_flap_changes_per_day changes that day
--   skip_rate        week           skips over the transitions entered in the week
--   regression_rate  week           regressions over the transitions entered in the week
with

visits as (

    select * from {{ ref('fct_deal_stage_history') }}

),

{{ metric_calendar_ctes() }},

transitions as (

    select
        deal_id,
        funnel_step,
        is_skip,
        is_regression,
        cast(entered_at as date) as entered_date,
        cast(
            {{ dbt.datediff('cast(entered_at as date)', as_of_date(), 'day') }}
            as {{ dbt.type_int() }}
        ) as day_index
    from visits
    where
        visit_number > 1
        and entered_at >= {{ metric_history_start() }}

),

to_steps as (

    {{ segment_rows(funnel_entry_steps()) }}

),

transition_counts as (

    select
        day_index,
        funnel_step,
        count(*) as transitions
    from transitions
    group by day_index, funnel_step

),

transitions_daily as (

    select
        days.period_start,
        days.period_end,
        'day' as grain,
        days.bucket_index,
        'transitions' as metric,
        to_steps.segment,
        cast(coalesce(transition_counts.transitions, 0) as {{ type_double() }}) as value,
        cast(coalesce(transition_counts.transitions, 0) as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        cast(coalesce(transition_counts.transitions, 0) as {{ dbt.type_int() }}) as n,
        cast(null as {{ type_double() }}) as mad,
        cast(null as {{ type_double() }}) as p90,
        true as is_complete
    from days
    cross join to_steps
    left join transition_counts
        on days.bucket_index = transition_counts.day_index
        and to_steps.segment = transition_counts.funnel_step

),

deal_days as (

    select
        day_index,
        deal_id,
        count(*) as changes
    from transitions
    group by day_index, deal_id

),

flap_counts as (

    select
        day_index,
        sum(case when changes >= {{ flap_changes }} then 1 else 0 end) as flapping_deals,
        count(*) as changed_deals
    from deal_days
    group by day_index

),

flapping_daily as (

    select
        days.period_start,
        days.period_end,
        'day' as grain,
        days.bucket_index,
        'flapping_deals' as metric,
        'all' as segment,
        cast(coalesce(flap_counts.flapping_deals, 0) as {{ type_double() }}) as value,
        cast(coalesce(flap_counts.flapping_deals, 0) as {{ type_double() }}) as numerator,
        cast(coalesce(flap_counts.changed_deals, 0) as {{ type_double() }}) as denominator,
        cast(coalesce(flap_counts.changed_deals, 0) as {{ dbt.type_int() }}) as n,
        cast(null as {{ type_double() }}) as mad,
        cast(null as {{ type_double() }}) as p90,
        true as is_complete
    from days
    left join flap_counts on days.bucket_index = flap_counts.day_index

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

    select * from transitions_daily
    union all
    select * from flapping_daily
    union all
    select * from skip_rate_weekly
    union all
    select * from regression_rate_weekly

)

select * from final
