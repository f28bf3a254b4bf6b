-- One row per source that has loaded at least once (CRMs and ad platforms): as of which day
-- the marts are, when they were built, and when each source last loaded. Published with the
-- marts, so a reader of the copy knows how fresh it is.
-- `built_at` is dbt's own run start time (`run_started_at`), not a clock read by the SQL.
-- A new source adds one import CTE and one `union all` branch in `source_loads`.
with

hubspot_deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

hubspot_contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

pipedrive_deals as (

    select * from {{ ref('stg_pipedrive__deals') }}

),

google_ads_campaign_stats as (

    select * from {{ ref('stg_google_ads__campaign_stats') }}

),

meta_campaign_insights as (

    select * from {{ ref('stg_meta__campaign_insights') }}

),

deals as (

    select * from {{ ref('int_deals_unioned') }}

),

leads as (

    select * from {{ ref('int_leads_unioned') }}

),

source_loads as (

    select
        'hubspot' as source,
        (
            select max(loaded_at) from (
                select loaded_at from hubspot_deals
                union all
                select loaded_at from hubspot_contacts
            ) as loads
        ) as last_loaded_at

    union all

    select 'pipedrive' as source, max(loaded_at) as last_loaded_at from pipedrive_deals

    union all

    select 'google_ads' as source, max(loaded_at) as last_loaded_at from google_ads_campaign_stats

    union all

    select 'meta' as source, max(loaded_at) as last_loaded_at from meta_campaign_insights

),

final as (

    select
        source_loads.source,
        {{ as_of_date() }} as as_of_date,
        cast({{ as_of() }} as timestamp) as as_of,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as built_at,
        cast(source_loads.last_loaded_at as timestamp) as last_loaded_at,
        cast((
            select count(*) from deals
            where deals.source = source_loads.source
        ) as {{ dbt.type_int() }})
            as deal_count,
        cast((
            select count(*) from leads
            where leads.source = source_loads.source
        ) as {{ dbt.type_int() }})
            as lead_count,
        '{{ var("reporting_currency", "USD") }}' as reporting_currency
    from source_loads
    where source_loads.last_loaded_at is not null

)

select * from final
