{#- The `union all` of the same columns selected from each source's CTE: a unioned model's
    branches when every source's staging model has the columns already (a source whose columns
    differ writes its branch out). `branches`: {label: CTE name}, in branch order; `columns`:
    select expressions (`probability as stage_probability`); `label_column`: when given, each
    branch first selects its label as that column (`'meta' as platform`). -#}
{% macro union_branches(branches, columns, label_column=none) -%}
    {%- for label, cte in branches.items() -%}
    {%- if not loop.first %}

    union all

    {% endif -%}
    select
        {%- if label_column %}
        '{{ label }}' as {{ label_column }},
        {%- endif %}
        {%- for column in columns %}
        {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ cte }}
    {%- endfor %}
{%- endmacro %}
