-- The seed funnel_stage_mapping uses the contract's canonical orders (§3): qualification 2,
-- presentation 3, negotiation 4, won 5, lost null.
select *
from {{ ref('funnel_stage_mapping') }}
where coalesce(funnel_step_order, -1) <> case funnel_step
    when 'qualification' then 2
    when 'presentation' then 3
    when 'negotiation' then 4
    when 'won' then 5
    else -1
end
