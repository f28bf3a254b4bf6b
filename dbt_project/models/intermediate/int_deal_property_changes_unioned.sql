{{ deal_chain_config() }}
-- Every CRM's change history of a deal's amount, currency and expected close date in one
-- shape, for the deals the marts show. One row per change; `value` is text normalized by each
-- source's branch (amount: the number as text; currency: upper-case code; close_date: the UTC
-- day, `YYYY-MM-DD`); an empty value is null (not set). Entries at or after `as_of` are kept
-- (they tell that a property has history); the models reading this ignore their values.
-- A new CRM adds one import CTE and one `union all` branch. Pipedrive: flow `dealChange` items
-- with field_key `value`, `currency`, `expected_close_date`, plus each property's value at
-- creation (row 0, the earliest change's `old_value`); `value` `0` is an amount of 0.
with

deals_to_build as (

    -- incremental by deal (macros/incremental_by_deal.sql): the deals whose inputs changed
    {{ deals_to_build() }}

),

deals as (

    select deal_id, source, source_deal_id from {{ ref('int_deals_unioned') }}
    where deal_id in (select deals_to_build.deal_id from deals_to_build)

),

hubspot_deal_ids as (

    select source_deal_id from deals
    where source = 'hubspot'

),

hubspot_property_changes as (

    -- the deals to build first, then the order: the same `change_sequence` as staging's (one
    -- property of one deal, oldest first, ties in the API's order) without numbering every
    -- deal's history on an incremental run
    select
        deal_id,
        source,
        property_name,
        property_value,
        changed_at,
        row_number() over (
            partition by deal_id, property_name
            order by changed_at asc, api_history_index desc
        ) as change_sequence
    from {{ ref('stg_hubspot__deal_property_changes') }}
    where property_name in ('amount', 'deal_currency_code', 'closedate')
        and deal_id in (select hubspot_deal_ids.source_deal_id from hubspot_deal_ids)

),

pipedrive_property_changes as (

    select * from {{ ref('stg_pipedrive__deal_property_changes') }}

),

unioned as (

    select
        {{ dbt.concat(["source", "':'", "deal_id"]) }} as deal_id,
        case property_name
            when 'amount' then 'amount'
            when 'deal_currency_code' then 'currency'
            else 'close_date'
        end as property,
        case property_name
            when 'amount' then nullif(trim(property_value), '')
            when 'deal_currency_code' then upper(nullif(trim(property_value), ''))
            else cast(cast({{ hubspot_timestamp('property_value') }} as date) as {{ dbt.type_string() }})
        end as value,
        changed_at,
        -- the CRM's order: oldest first, equal timestamps in the API's order
        change_sequence as source_change_sequence
    from hubspot_property_changes

    union all

    select
        {{ dbt.concat(["source", "':'", "deal_id"]) }} as deal_id,
        case field_key
            when 'value' then 'amount'
            when 'currency' then 'currency'
            else 'close_date'
        end as property,
        case field_key
            when 'value' then nullif(trim(property_value), '')
            when 'currency' then upper(nullif(trim(property_value), ''))
            else cast(cast(nullif(trim(property_value), '') as date) as {{ dbt.type_string() }})
        end as value,
        changed_at,
        -- oldest first: log_time, ties by change id; 0 is the value at creation
        change_sequence as source_change_sequence
    from pipedrive_property_changes

),

final as (

    select
        unioned.deal_id,
        deals.source,
        deals.source_deal_id,
        unioned.property,
        unioned.value,
        unioned.changed_at,
        cast(unioned.source_change_sequence as {{ dbt.type_int() }}) as source_change_sequence
    from unioned
    inner join deals on unioned.deal_id = deals.deal_id

)

select
    final.*,
    deals_to_build.deal_build_fingerprint,
    {{ deal_built_at() }} as deal_built_at
from final
inner join deals_to_build on final.deal_id = deals_to_build.deal_id
