-- mart_lead_volume_daily counts every in-scope lead exactly once: per source, the sum of
-- new_leads equals the number of leads in int_leads_unioned.
{{ config(meta={'dagster': {'ref': {'name': 'mart_lead_volume_daily'}}}) }}

with

mart as (

    select source, sum(new_leads) as leads from {{ ref('mart_lead_volume_daily') }} group by source

),

leads as (

    select source, count(*) as leads from {{ ref('int_leads_unioned') }} group by source

)

select coalesce(mart.source, leads.source) as source, mart.leads as mart_leads, leads.leads as leads
from mart
full outer join leads on mart.source = leads.source
where coalesce(mart.leads, 0) <> coalesce(leads.leads, 0)
