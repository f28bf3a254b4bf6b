-- Every CRM's leads in one shape, keyed `<source>:<id>`: live (not archived, deleted or merged
-- away) and created before `as_of`. HubSpot: a lead is a contact, dated by `createdate`, its
-- channel the current `hs_analytics_source`, lower-cased (null or empty -> `unknown`).
-- Pipedrive: listed and converted leads (stg_pipedrive__leads), channel the Source channel label.
with

hubspot_contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

pipedrive_leads as (

    select * from {{ ref('stg_pipedrive__leads') }}

),

unioned as (

    select
        source,
        contact_id as source_lead_id,
        created_at,
        channel,
        owner_id,
        (is_archived or is_deleted) as is_excluded
    from hubspot_contacts

    union all

    -- Pipedrive: listed leads and converted leads (staging applies the exclusions)
    select
        source,
        lead_id as source_lead_id,
        created_at,
        channel,
        owner_id,
        false as is_excluded
    from pipedrive_leads

),

final as (

    select
        {{ dbt.concat(["source", "':'", "source_lead_id"]) }} as lead_id,
        source,
        source_lead_id,
        created_at,
        channel,
        owner_id
    from unioned
    where not is_excluded
        and created_at < {{ as_of() }}

)

select * from final
