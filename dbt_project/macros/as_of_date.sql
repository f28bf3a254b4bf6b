{#- The day the marts treat as "today" (dbt var `as_of_date`, set from AS_OF_DATE by Dagster).
    `as_of()` is the exclusive end of that day: the next midnight UTC. Models never read the
    clock any other way. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or value == '' -%}
        {%- set value = modules.datetime.datetime.now(modules.pytz.utc).strftime('%Y-%m-%d') -%}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}

{% macro as_of() -%}
    {{ dbt.dateadd('day', 1, 'cast(' ~ as_of_date() ~ ' as timestamp)') }}
{%- endmacro %}
