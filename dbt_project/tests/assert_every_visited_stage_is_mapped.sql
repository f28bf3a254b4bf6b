-- BLOCKING (on int_deal_stage_visits_collapsed, so `dbt build` skips the marts when it fails).
-- Every stage a deal visits must map to a canonical funnel step through the seed
-- `funnel_stage_mapping` (docs/metrics.md#the-funnel). Returns one row per unmapped (source, pipeline, stage).
{{ config(severity='error') }}

select
    source,
    pipeline_id,
    stage_id,
    count(*) as visit_count,
    'add a row to seeds/funnel_stage_mapping.csv (source, pipeline_id, stage_id, funnel_step, funnel_step_order)' as fix
from {{ ref('int_deal_stage_visits_collapsed') }}
where funnel_step is null
group by source, pipeline_id, stage_id
