{#- HubSpot sends ISO-8601 UTC strings such as 2025-02-24T03:01:01.147Z (and occasionally
    epoch milliseconds). Returns a UTC `timestamp` without `::` or engine-specific parsers. -#}
{% macro hubspot_timestamp(column) -%}
    case
        when {{ column }} is null or trim({{ column }}) = '' then null
        when {{ column }} like '%-%' then
            cast(replace(replace({{ column }}, 'T', ' '), 'Z', '') as timestamp)
        else {{ epoch_ms_to_timestamp(column) }}
    end
{%- endmacro %}

{% macro epoch_ms_to_timestamp(column) -%}
    {{ return(adapter.dispatch('epoch_ms_to_timestamp')(column)) }}
{%- endmacro %}

{% macro default__epoch_ms_to_timestamp(column) -%}
    {{ dbt.dateadd('millisecond', 'cast(' ~ column ~ ' as bigint)', "cast('1970-01-01' as timestamp)") }}
{%- endmacro %}
