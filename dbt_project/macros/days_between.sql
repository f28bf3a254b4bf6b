{#- Fractional days between two timestamps: (end - start) in seconds / 86400.
    Not `dbt.datediff`, which counts day boundaries (23:59 -> 00:01 is "1 day" there). -#}
{% macro days_between(start_ts, end_ts) -%}
    (({{ epoch_seconds(end_ts) }}) - ({{ epoch_seconds(start_ts) }})) / 86400.0
{%- endmacro %}

{#- Seconds since 1970-01-01 00:00 UTC of a `timestamp` (fractional, sub-second kept). -#}
{% macro epoch_seconds(ts) -%}
    {{ return(adapter.dispatch('epoch_seconds')(ts)) }}
{%- endmacro %}

{% macro default__epoch_seconds(ts) -%}
    cast(extract(epoch from {{ ts }}) as {{ type_double() }})
{%- endmacro %}

{#- A double, not Spark's decimal division (whose fixed scale loses the 1e-9 the engines agree on). -#}
{% macro spark__epoch_seconds(ts) -%}
    (cast(unix_micros({{ ts }}) as double) / 1000000.0)
{%- endmacro %}
