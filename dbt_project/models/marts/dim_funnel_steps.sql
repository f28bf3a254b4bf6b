-- The canonical funnel: one row per step, plus the `lost` outcome, from the dbt var
-- `funnel_steps` (dbt_project.yml; definitions in docs/metrics.md#the-funnel).
with

steps as (

    {% for step in funnel_steps() -%}
    select
        '{{ step.name }}' as funnel_step,
        {{ 'null' if step.order is none else step.order }} as funnel_step_order,
        {{ 'true' if step.is_closed else 'false' }} as is_closed,
        '{{ step.description }}' as step_description
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}

),

final as (

    select
        funnel_step,
        cast(funnel_step_order as {{ dbt.type_int() }}) as funnel_step_order,
        is_closed,
        step_description
    from steps

)

select * from final
