-- Every CRM's deals in one shape, keyed `<source>:<id>`, keeping only the deals the marts show:
-- live (not archived, deleted or merged away) and created before `as_of`. Attributes other
-- than history (amount, name, owner, stage) are their latest loaded values.
-- A new CRM adds one import CTE and one `union all` branch.
with

hubspot_deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

pipedrive_deals as (

    select * from {{ ref('stg_pipedrive__deals') }}

),

unioned as (

    select
        source,
        deal_id as source_deal_id,
        deal_name,
        pipeline_id,
        stage_id,
        amount,
        currency_code,
        created_at,
        close_date_at,
        owner_id,
        -- HubSpot archives merged-away deals, so is_archived covers merges
        (is_archived or is_deleted) as is_excluded
    from hubspot_deals

    union all

    select
        source,
        deal_id as source_deal_id,
        deal_name,
        pipeline_id,
        -- won/lost are a status in Pipedrive: the stage a closed deal is in is `won`/`lost`
        case when status in ('won', 'lost') then status else stage_id end as stage_id,
        amount,
        currency_code,
        created_at,
        cast(expected_close_date as timestamp) as close_date_at,
        owner_id,
        -- archived (/deals/archived) and deleted (status deleted, is_deleted, gone) deals
        (is_archived or is_deleted) as is_excluded
    from pipedrive_deals

),

final as (

    select
        {{ dbt.concat(["source", "':'", "source_deal_id"]) }} as deal_id,
        source,
        source_deal_id,
        deal_name,
        pipeline_id,
        stage_id,
        amount,
        currency_code,
        created_at,
        close_date_at,
        owner_id
    from unioned
    where not is_excluded
        and created_at < {{ as_of() }}

)

select * from final
