-- Every CRM's pipeline stages in one shape: which pipeline owns a stage id, its label and
-- whether the CRM calls it closed. Archived stages are kept: old history still visits them.
with

hubspot_pipeline_stages as (

    select * from {{ ref('stg_hubspot__pipeline_stages') }}

),

pipedrive_stages as (

    select * from {{ ref('stg_pipedrive__stages') }}

),

final as (

    select
        source,
        pipeline_id,
        stage_id,
        stage_label,
        display_order,
        is_closed,
        is_archived
    from hubspot_pipeline_stages

    union all

    select
        source,
        pipeline_id,
        stage_id,
        stage_label,
        display_order,
        is_closed,
        is_archived
    from pipedrive_stages

)

select * from final
