{#- Aggregate median of `expr` over the group; nulls ignored; an even count gives the mean of
    the two middle values (continuous percentile). DuckDB, PostgreSQL and Spark 3.4+ all accept
    the ordered-set form, so only the result type is pinned here. -#}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median')(expr)) }}
{%- endmacro %}

{% macro default__median(expr) -%}
    cast(percentile_cont(0.5) within group (order by {{ expr }}) as {{ type_double() }})
{%- endmacro %}
