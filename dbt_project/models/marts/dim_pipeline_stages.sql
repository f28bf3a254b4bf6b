-- One row per CRM pipeline stage: its label, position and canonical funnel step (from the
-- `funnel_stage_mapping` seed). Status-based CRMs (Pipedrive) add their `won`/`lost`
-- pseudo-stages from the seed, for the pipelines the CRM lists.
with

stages as (

    select * from {{ ref('int_pipeline_stages_unioned') }}

),

pipelines as (

    select * from {{ ref('dim_pipelines') }}

),

mapping as (

    select * from {{ ref('funnel_stage_mapping') }}

),

crm_stages as (

    select
        stages.source,
        stages.pipeline_id,
        stages.stage_id,
        coalesce(stages.stage_label, stages.stage_id) as stage_label,
        stages.display_order,
        stages.is_closed,
        stages.is_archived
    from stages

),

pseudo_stages as (

    -- seed rows for `won`/`lost` of pipelines that exist, with no stage of their own
    select
        mapping.source,
        cast(mapping.pipeline_id as {{ dbt.type_string() }}) as pipeline_id,
        cast(mapping.stage_id as {{ dbt.type_string() }}) as stage_id,
        case when mapping.stage_id = 'won' then 'Won' else 'Lost' end as stage_label,
        cast(null as {{ dbt.type_int() }}) as display_order,
        true as is_closed,
        false as is_archived
    from mapping
    inner join pipelines
        on mapping.source = pipelines.source
        and cast(mapping.pipeline_id as {{ dbt.type_string() }}) = pipelines.pipeline_id
    left join crm_stages
        on mapping.source = crm_stages.source
        and cast(mapping.pipeline_id as {{ dbt.type_string() }}) = crm_stages.pipeline_id
        and cast(mapping.stage_id as {{ dbt.type_string() }}) = crm_stages.stage_id
    where mapping.stage_id in ('won', 'lost')
        and crm_stages.stage_id is null

),

all_stages as (

    select * from crm_stages
    union all
    select * from pseudo_stages

),

final as (

    select
        all_stages.source,
        all_stages.pipeline_id,
        coalesce(pipelines.pipeline_label, all_stages.pipeline_id) as pipeline_label,
        all_stages.stage_id,
        all_stages.stage_label,
        cast(all_stages.display_order as {{ dbt.type_int() }}) as display_order,
        mapping.funnel_step,
        cast(mapping.funnel_step_order as {{ dbt.type_int() }}) as funnel_step_order,
        all_stages.is_closed,
        all_stages.is_archived
    from all_stages
    left join pipelines
        on all_stages.source = pipelines.source
        and all_stages.pipeline_id = pipelines.pipeline_id
    left join mapping
        on all_stages.source = mapping.source
        and all_stages.pipeline_id = cast(mapping.pipeline_id as {{ dbt.type_string() }})
        and all_stages.stage_id = cast(mapping.stage_id as {{ dbt.type_string() }})

)

select * from final
