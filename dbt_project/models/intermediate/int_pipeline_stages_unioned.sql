-- Every CRM's pipeline stages in one shape: which pipeline owns a stage id, its label and
-- whether the CRM calls it closed. Archived stages are kept: old history still visits them.
with

hubspot_pipeline_stages as (

    select * from {{ ref('stg_hubspot__pipeline_stages') }}

),

pipedrive_stages as (

    select * from {{ ref('stg_pipedrive__stages') }}

),

-- stage_probability: the CRM's configured win probability as a fraction 0-1 (HubSpot
-- `metadata.probability`; Pipedrive: `deal_probability` / 100); today's configuration, the CRMs
-- keep no history
final as (

    {{ union_branches(
        {'hubspot': 'hubspot_pipeline_stages', 'pipedrive': 'pipedrive_stages'},
        [
            'source', 'pipeline_id', 'stage_id', 'stage_label', 'display_order', 'is_closed',
            'probability as stage_probability', 'is_archived'
        ]
    ) }}

)

select * from final
