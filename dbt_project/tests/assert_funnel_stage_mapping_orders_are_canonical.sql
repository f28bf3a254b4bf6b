-- The seed funnel_stage_mapping uses the canonical step orders of the dbt var `funnel_steps`
-- (docs/metrics.md#the-funnel): qualification 2, presentation 3, negotiation 4, won 5, lost null.
select *
from {{ ref('funnel_stage_mapping') }}
where coalesce(funnel_step_order, -1) <> case funnel_step
    {% for step in funnel_steps() if step.order is not none -%}
    when '{{ step.name }}' then {{ step.order }}
    {% endfor -%}
    else -1
end
