{#- Aggregate continuous quantile `q` (0-1) of `expr` over the group; nulls ignored; linear
    interpolation between closest ranks (DuckDB `quantile_cont`, PostgreSQL `percentile_cont`). -#}
{% macro continuous_quantile(expr, q) -%}
    {{ return(adapter.dispatch('continuous_quantile')(expr, q)) }}
{%- endmacro %}

{% macro default__continuous_quantile(expr, q) -%}
    cast(percentile_cont({{ q }}) within group (order by {{ expr }}) as {{ type_double() }})
{%- endmacro %}
