{#- Use the folder's schema as-is (staging, marts, ...) instead of dbt's <target>_<custom>
    default, so BI tools and docs/metrics.md see `marts.fct_deals`, not `main_marts.fct_deals`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
