-- Every CRM's deals in one shape, keyed `<source>:<id>`, keeping only the deals the marts show:
-- live (not archived, deleted or merged away) and created before `as_of`. Attributes other
-- than history (amount, name, owner, stage) are their latest loaded values. Deals quarantined
-- for a structural fault (int_records_quarantined) are left out here, once, so every model
-- downstream (every mart) inherits the exclusion.
-- A new CRM adds one import CTE and one `union all` branch.
with

hubspot_deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

pipedrive_deals as (

    select * from {{ ref('stg_pipedrive__deals') }}

),

quarantined_deals as (

    select distinct deal_id from {{ ref('int_records_quarantined') }}
    where deal_id is not null

),

pipedrive_channel_options as (

    select option_id, option_label from {{ ref('stg_pipedrive__deal_field_options') }}
    where field_code = 'channel'

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
        -- a HubSpot deal records no lead of its own: its lead is its primary contact (fct_deals)
        cast(null as {{ dbt.type_string() }}) as source_lead_id,
        cast(null as {{ dbt.type_string() }}) as channel,
        -- HubSpot archives merged-away deals, so is_archived covers merges
        (is_archived or is_deleted) as is_excluded
    from hubspot_deals

    union all

    select
        pipedrive_deals.source,
        pipedrive_deals.deal_id as source_deal_id,
        pipedrive_deals.deal_name,
        pipedrive_deals.pipeline_id,
        -- won/lost are a status in Pipedrive: the stage a closed deal is in is `won`/`lost`
        case
            when pipedrive_deals.status in ('won', 'lost') then pipedrive_deals.status
            else pipedrive_deals.stage_id
        end as stage_id,
        pipedrive_deals.amount,
        pipedrive_deals.currency_code,
        pipedrive_deals.created_at,
        cast(pipedrive_deals.expected_close_date as timestamp) as close_date_at,
        pipedrive_deals.owner_id,
        -- the lead the deal was converted from, and the deal's own Source channel (label of the
        -- deal field `channel` option, lower-cased as it is; null or no such option: `unknown`)
        pipedrive_deals.source_lead_id,
        case
            when
                pipedrive_channel_options.option_label is null
                or trim(pipedrive_channel_options.option_label) = ''
                then 'unknown'
            else lower(pipedrive_channel_options.option_label)
        end as channel,
        -- archived (/deals/archived) and deleted (status deleted, is_deleted, gone) deals
        (pipedrive_deals.is_archived or pipedrive_deals.is_deleted) as is_excluded
    from pipedrive_deals
    left join pipedrive_channel_options
        on pipedrive_deals.channel_option_id = pipedrive_channel_options.option_id

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
        owner_id,
        source_lead_id,
        channel
    from unioned
    where not is_excluded
        and created_at < {{ as_of() }}
        and not exists (
            select 1 from quarantined_deals
            where quarantined_deals.deal_id = {{ dbt.concat(["unioned.source", "':'", "unioned.source_deal_id"]) }}
        )

)

select * from final
