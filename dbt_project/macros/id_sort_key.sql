{#- Sort keys that order ids "as numbers where ids are numeric" without casting (a failed cast
    raises on some engines): shorter first, then lexicographic. For digit strings without
    leading zeros that is numeric order (99999 < 100000); other ids still sort deterministically.
    Use as: order by {{ id_sort_key('contact_id') }} -#}
{% macro id_sort_key(column) -%}
    {{ dbt.length(column) }}, {{ column }}
{%- endmacro %}
