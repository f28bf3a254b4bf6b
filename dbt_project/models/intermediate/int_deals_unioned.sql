-- Every CRM's deals in one shape, keyed `<source>:<id>`, keeping only the deals the marts show:
-- live (not archived, deleted or merged away) and created before `as_of`. Attributes other
-- than history (amount, name, owner, stage) are their latest loaded values.
-- A new CRM adds one import CTE and one `union all` branch.
with

hubspot_deals as (

    select * from {{ ref('stg_hubspot__deals') }}

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
