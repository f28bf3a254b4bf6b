{#- Generic test: no two rows share the values of `columns` (a grouped count, cheaper on large
    tables than `unique` over a concatenated text key). Returns the duplicated combinations. -#}
{% test unique_combination(model, columns) %}

select {{ columns | join(', ') }}, count(*) as row_count
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
