{#- Concatenate `expr` over the group in the order of `order_by`, separated by `sep`. -#}
{% macro string_agg_ordered(expr, order_by, sep='|') -%}
    {{ return(adapter.dispatch('string_agg_ordered')(expr, order_by, sep)) }}
{%- endmacro %}

{% macro default__string_agg_ordered(expr, order_by, sep) -%}
    string_agg({{ expr }}, '{{ sep }}' order by {{ order_by }})
{%- endmacro %}

{% macro spark__string_agg_ordered(expr, order_by, sep) -%}
    array_join(transform(array_sort(collect_list(struct({{ order_by }} as k, {{ expr }} as v))), x -> x.v), '{{ sep }}')
{%- endmacro %}
