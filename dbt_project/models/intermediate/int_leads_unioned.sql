-- Every CRM's leads in one shape, keyed `<source>:<id>`: live (not archived, deleted or merged
-- away) and created before `as_of`. HubSpot: a lead is a contact, dated by `createdate`, its
-- channel the current `hs_analytics_source`, lower-cased (null or empty -> `unknown`).
with

hubspot_contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

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
