{#- Generic test: none of `column_names` is null. One scan of the model for all its not-null
    columns instead of one `not_null` test each: each test is a dbt node with a fixed cost, and a
    test of a view recomputes the view (docs/decisions.md, "One not-null test per model").
    Returns the offending rows, with `null_columns` naming the columns that are null in each. -#}
{% test not_null_columns(model, column_names) %}

select
    {% for column in column_names -%}
    case when {{ column }} is null then '{{ column }} ' else '' end{% if not loop.last %} || {% endif %}
    {%- endfor %} as null_columns
from {{ model }}
where
    {% for column in column_names -%}
    {{ column }} is null{% if not loop.last %} or {% endif %}
    {%- endfor %}

{% endtest %}
