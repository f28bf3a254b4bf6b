-- Deal-to-lead associations of every CRM (their latest loaded state), kept only between deals
-- and leads the marts show (live, created before `as_of`). One row per deal and lead.
with

hubspot_deal_contacts as (

    select * from {{ ref('stg_hubspot__deal_contacts') }}

),

deals as (

    select deal_id from {{ ref('int_deals_unioned') }}

),

leads as (

    select lead_id, source_lead_id, created_at from {{ ref('int_leads_unioned') }}

),

unioned as (

    select distinct
        {{ dbt.concat(["source", "':'", "deal_id"]) }} as deal_id,
        {{ dbt.concat(["source", "':'", "contact_id"]) }} as lead_id,
        source
    from hubspot_deal_contacts

),

final as (

    select
        unioned.deal_id,
        unioned.lead_id,
        unioned.source,
        leads.source_lead_id,
        leads.created_at as lead_created_at
    from unioned
    inner join deals on unioned.deal_id = deals.deal_id
    inner join leads on unioned.lead_id = leads.lead_id

)

select * from final
