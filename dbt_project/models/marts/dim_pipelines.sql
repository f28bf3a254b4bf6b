-- One row per CRM deal pipeline with its label, so `pipeline_id` can be shown as a name.
-- A new CRM adds one import CTE and one `union all` branch.
with

hubspot_pipelines as (

    select * from {{ ref('stg_hubspot__pipelines') }}

),

pipedrive_pipelines as (

    select * from {{ ref('stg_pipedrive__pipelines') }}

),

stages as (

    select * from {{ ref('int_pipeline_stages_unioned') }}

),

unioned as (

    select source, pipeline_id, pipeline_label, display_order, is_archived
    from hubspot_pipelines

    union all

    select source, pipeline_id, pipeline_label, display_order, is_archived
    from pipedrive_pipelines

),

stage_counts as (

    select source, pipeline_id, count(*) as stage_count
    from stages
    group by source, pipeline_id

),

final as (

    select
        unioned.source,
        unioned.pipeline_id,
        coalesce(unioned.pipeline_label, unioned.pipeline_id) as pipeline_label,
        cast(unioned.display_order as {{ dbt.type_int() }}) as display_order,
        unioned.is_archived,
        cast(coalesce(stage_counts.stage_count, 0) as {{ dbt.type_int() }}) as stage_count
    from unioned
    left join stage_counts
        on unioned.source = stage_counts.source
        and unioned.pipeline_id = stage_counts.pipeline_id

)

select * from final
