-- Which leads each deal came from (latest loaded state), between the deals and leads the marts
-- show: step 1 of the funnel counts a lead as advanced when a row links it to a deal. HubSpot:
-- the deal's associated contacts (contacts are leads). Pipedrive: the deal's `source_lead_id`
-- (persons are not leads). One row per deal and lead.
with

hubspot_deal_contacts as (

    select * from {{ ref('stg_hubspot__deal_contacts') }}

),

pipedrive_deals as (

    select * from {{ ref('stg_pipedrive__deals') }}

),

deals as (

    select deal_id from {{ ref('int_deals_unioned') }}

),

leads as (

    select lead_id from {{ ref('int_leads_unioned') }}

),

unioned as (

    select
        {{ dbt.concat(["source", "':'", "deal_id"]) }} as deal_id,
        {{ dbt.concat(["source", "':'", "contact_id"]) }} as lead_id,
        source
    from hubspot_deal_contacts

    union all

    select
        {{ dbt.concat(["source", "':'", "deal_id"]) }} as deal_id,
        {{ dbt.concat(["source", "':'", "source_lead_id"]) }} as lead_id,
        source
    from pipedrive_deals
    where source_lead_id is not null

),

final as (

    select distinct unioned.deal_id, unioned.lead_id, unioned.source
    from unioned
    inner join deals on unioned.deal_id = deals.deal_id
    inner join leads on unioned.lead_id = leads.lead_id

)

select * from final
