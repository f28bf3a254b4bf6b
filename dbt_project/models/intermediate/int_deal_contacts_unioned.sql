-- Each deal's contacts that can be its primary contact (latest loaded state), for the deals
-- the marts show. HubSpot: associated contacts that are leads the marts show (live, created
-- before `as_of`). Pipedrive: the one person the deal links, when that person is live.
-- One row per deal and contact; `lead_id` / `source_lead_id` name the contact.
with

hubspot_deal_contacts as (

    select * from {{ ref('stg_hubspot__deal_contacts') }}

),

pipedrive_deals as (

    select * from {{ ref('stg_pipedrive__deals') }}

),

pipedrive_persons as (

    select * from {{ ref('stg_pipedrive__persons') }}

),

deals as (

    select deal_id from {{ ref('int_deals_unioned') }}

),

leads as (

    select lead_id, source_lead_id, created_at from {{ ref('int_leads_unioned') }}

),

hubspot_unioned as (

    select distinct
        {{ dbt.concat(["source", "':'", "deal_id"]) }} as deal_id,
        {{ dbt.concat(["source", "':'", "contact_id"]) }} as lead_id,
        source
    from hubspot_deal_contacts

),

hubspot_contacts as (

    select
        hubspot_unioned.deal_id,
        hubspot_unioned.lead_id,
        hubspot_unioned.source,
        leads.source_lead_id,
        leads.created_at as lead_created_at
    from hubspot_unioned
    inner join leads on hubspot_unioned.lead_id = leads.lead_id

),

pipedrive_contacts as (

    select
        {{ dbt.concat(["pipedrive_deals.source", "':'", "pipedrive_deals.deal_id"]) }} as deal_id,
        {{ dbt.concat(["pipedrive_persons.source", "':'", "pipedrive_persons.person_id"]) }} as lead_id,
        pipedrive_persons.source,
        pipedrive_persons.person_id as source_lead_id,
        pipedrive_persons.created_at as lead_created_at
    from pipedrive_deals
    inner join pipedrive_persons
        on pipedrive_deals.person_id = pipedrive_persons.person_id
        and not pipedrive_persons.is_deleted

),

combined as (

    select * from hubspot_contacts
    union all
    select * from pipedrive_contacts

),

final as (

    select combined.*
    from combined
    inner join deals on combined.deal_id = deals.deal_id

)

select * from final
