-- Pipedrive leads (docs/metrics.md "Leads"): (a) the leads `/v1/leads` lists now, dated by their
-- own `add_time`, and (b) converted leads, known only as the `source_lead_id` of a live deal and
-- dated by that deal's `add_time` (the lead record is gone; the deal carries its channel). An id
-- that is both counts once, as (a). Archived leads and leads the latest full read no longer
-- lists are excluded. `channel` is the label of the deal field `channel`'s option, lower-cased
-- as it is; null or an id without an option is `unknown`.
with

leads as (

    select * from {{ source('raw_pipedrive', 'leads') }}

),

deals as (

    select * from {{ ref('stg_pipedrive__deals') }}

),

channel_options as (

    select option_id, option_label from {{ ref('stg_pipedrive__deal_field_options') }}
    where field_code = 'channel'

),

listed as (

    select
        cast(id as {{ dbt.type_string() }}) as lead_id,
        {{ pipedrive_timestamp('add_time') }} as created_at,
        cast(channel as {{ dbt.type_string() }}) as channel_option_id,
        cast(owner_id as {{ dbt.type_string() }}) as owner_id,
        cast(person_id as {{ dbt.type_string() }}) as person_id,
        'listed' as lead_kind
    from leads
    where not coalesce(is_archived, false)
        and not coalesce(_is_deleted, false)

),

converted as (

    select
        deals.source_lead_id as lead_id,
        min(deals.created_at) as created_at,
        min(deals.channel_option_id) as channel_option_id,
        min(deals.owner_id) as owner_id,
        min(deals.person_id) as person_id,
        'converted' as lead_kind
    from deals
    left join listed on deals.source_lead_id = listed.lead_id
    where deals.source_lead_id is not null
        and not deals.is_archived
        and not deals.is_deleted
        and listed.lead_id is null
    group by deals.source_lead_id

),

combined as (

    select * from listed
    union all
    select * from converted

),

final as (

    select
        combined.lead_id,
        'pipedrive' as source,
        combined.created_at,
        combined.channel_option_id,
        case
            when channel_options.option_label is null or trim(channel_options.option_label) = '' then 'unknown'
            else lower(channel_options.option_label)
        end as channel,
        combined.owner_id,
        combined.person_id,
        combined.lead_kind
    from combined
    left join channel_options on combined.channel_option_id = channel_options.option_id

)

select * from final
