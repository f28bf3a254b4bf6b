{#- Aggregate continuous percentile of `expr` over the group (linear interpolation between the
    closest ranks, DuckDB's `quantile_cont`); nulls ignored; null when nothing is left. -#}
{% macro percentile(expr, fraction) -%}
    {{ return(adapter.dispatch('percentile')(expr, fraction)) }}
{%- endmacro %}

{% macro default__percentile(expr, fraction) -%}
    cast(percentile_cont({{ fraction }}) within group (order by {{ expr }}) as {{ type_double() }})
{%- endmacro %}
