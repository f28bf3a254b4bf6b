{#- Pipedrive times are UTC: v2 `2025-01-10T09:15:00Z`, v1 flow `2025-02-03 10:12:45` (no zone),
    v1 leads `2025-01-10T09:15:00.123Z`. Returns a UTC `timestamp`. -#}
{% macro pipedrive_timestamp(column) -%}
    case
        when {{ column }} is null or trim({{ column }}) = '' then null
        else cast(replace(replace({{ column }}, 'T', ' '), 'Z', '') as timestamp)
    end
{%- endmacro %}
