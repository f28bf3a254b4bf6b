{#- The canonical funnel, from the dbt var `funnel_steps` (dbt_project.yml; docs/metrics.md).
    Each step is a mapping {name, order, is_closed, description}; `lost` has no order. -#}
{% macro funnel_steps() -%}
    {{ return(var('funnel_steps')) }}
{%- endmacro %}

{#- Steps a deal can reach, in order, as (order, name): qualification 2 ... won 5. -#}
{% macro funnel_deal_steps() -%}
    {%- set out = [] -%}
    {%- for s in funnel_steps() if s.order is not none and s.order > 1 -%}
        {%- do out.append((s.order, s.name)) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- The open deal steps (a deal can sit in them): qualification, presentation, negotiation. -#}
{% macro funnel_open_steps() -%}
    {%- set out = [] -%}
    {%- for order, name in funnel_deal_steps() -%}
        {%- for s in funnel_steps() if s.name == name and not s.is_closed -%}
            {%- do out.append(name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- Every step a stage change can enter: the deal steps plus `lost`. -#}
{% macro funnel_entry_steps() -%}
    {%- set out = [] -%}
    {%- for s in funnel_steps() if s.name != funnel_steps()[0].name -%}
        {%- do out.append(s.name) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- (step, next step) for each deal step that has a next one: qualification -> presentation,
    presentation -> negotiation, negotiation -> won. -#}
{% macro funnel_deal_step_pairs() -%}
    {%- set steps = funnel_deal_steps() -%}
    {%- set out = [] -%}
    {%- for i in range(steps | length - 1) -%}
        {%- do out.append((steps[i][1], steps[i + 1][1])) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- A SQL list literal of names: ('a', 'b'). -#}
{% macro sql_string_list(names) -%}
    ({% for n in names %}'{{ n }}'{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#- One row per name, as a column `segment`: the body of a segments CTE. -#}
{% macro segment_rows(names) -%}
    {% for name in names -%}
    select '{{ name }}' as segment
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}
{%- endmacro %}
