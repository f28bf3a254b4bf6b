{#- The bucket calendars of the metric models (models/metrics/), anchored at `as_of_date`:
    bucket_index 0 is the newest day (`days`) or the 7 days ending on `as_of_date` (`weeks`),
    so "the last 7 / 14 days" are whole buckets. Emits the CTEs `series`, `days` and `weeks` (either of the last two can be left out)
    (`weeks.snapshot_at` is the end of the bucket's last day). Horizon: var `anomaly_history_weeks`. -#}
{% macro metric_history_days() -%}
    {{ return(var('anomaly_history_weeks') | int * 7) }}
{%- endmacro %}

{% macro metric_calendar_ctes(days=true, weeks=true) -%}
series as (

    {{ dbt.generate_series(metric_history_days()) }}

){% if days %},

days as (

    select
        cast(generated_number - 1 as {{ dbt.type_int() }}) as bucket_index,
        cast({{ dbt.dateadd('day', '1 - generated_number', as_of_date()) }} as date) as period_start,
        cast({{ dbt.dateadd('day', '1 - generated_number', as_of_date()) }} as date) as period_end
    from series

){% endif %}{% if weeks %},

weeks as (

    select
        cast(generated_number - 1 as {{ dbt.type_int() }}) as bucket_index,
        cast({{ dbt.dateadd('day', '6 - 7 * generated_number', as_of_date()) }} as date) as period_start,
        cast({{ dbt.dateadd('day', '7 - 7 * generated_number', as_of_date()) }} as date) as period_end,
        -- the instant the snapshot of this bucket is taken: the end of its last day
        cast({{ dbt.dateadd('day', '8 - 7 * generated_number', as_of_date()) }} as timestamp) as snapshot_at
    from series
    where generated_number <= {{ var('anomaly_history_weeks') | int }}

){% endif %}
{%- endmacro %}

{#- The first instant of the history window: `as_of_date` minus the horizon, plus one day. -#}
{% macro metric_history_start() -%}
    cast({{ dbt.dateadd('day', 1 - metric_history_days(), as_of_date()) }} as timestamp)
{%- endmacro %}

{#- Weekly bucket of a timestamp column: 0 for the 7 days ending on as_of_date, 1 before, ... -#}
{% macro metric_week_bucket(column) -%}
    cast(
        floor({{ dbt.datediff('cast(' ~ column ~ ' as date)', as_of_date(), 'day') }} / 7.0)
        as {{ dbt.type_int() }}
    )
{%- endmacro %}
