{#- The first day of the month of a timestamp or date, as a `date` (dbt.date_trunc returns a
    timestamp, or a timestamptz on PostgreSQL). -#}
{% macro month_start(expr) -%}
    cast({{ dbt.date_trunc('month', expr) }} as date)
{%- endmacro %}
