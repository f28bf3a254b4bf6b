-- Pipedrive's change history of a deal's value, currency and expected close date, one row per
-- change in time order (docs/decisions.md "Pipedrive property history"). From the deal flow,
-- the `dealChange` items whose `field_key` is `value`, `currency` or `expected_close_date`,
-- ordered by `log_time`, ties by the change id. Pipedrive logs no change for the value a deal is
-- created with: it is the `old_value` of the property's earliest change, so each property with
-- changes also gets a row 0 at the deal's `add_time` carrying that `old_value`. Values stay the
-- API's strings (`value` is `0` when none was entered; an empty currency or date is null).
with

flow as (

    select
        cast(deal_id as {{ dbt.type_string() }}) as deal_id,
        change_id,
        field_key,
        old_value,
        new_value,
        {{ pipedrive_timestamp('log_time') }} as changed_at
    from {{ source('raw_pipedrive', 'deal_flow') }}
    where object = 'dealChange'
        and field_key in ('value', 'currency', 'expected_close_date')
        and not coalesce(_is_deleted, false)

),

deals as (

    select deal_id, created_at, is_deleted from {{ ref('stg_pipedrive__deals') }}

),

ordered as (

    select
        flow.*,
        row_number() over (
            partition by flow.deal_id, flow.field_key order by flow.changed_at, flow.change_id
        ) as change_sequence
    from flow

),

initial_values as (

    -- the value the deal was created with: the old_value of the property's earliest change
    select
        ordered.deal_id,
        ordered.field_key,
        ordered.old_value as new_value,
        deals.created_at as changed_at,
        cast(null as {{ dbt.type_bigint() }}) as change_id,
        0 as change_sequence,
        true as is_initial_value
    from ordered
    inner join deals on ordered.deal_id = deals.deal_id
    where ordered.change_sequence = 1

),

changes as (

    select
        deal_id,
        field_key,
        new_value,
        changed_at,
        cast(change_id as {{ dbt.type_bigint() }}) as change_id,
        change_sequence,
        false as is_initial_value
    from ordered

    union all

    select
        deal_id,
        field_key,
        new_value,
        changed_at,
        change_id,
        change_sequence,
        is_initial_value
    from initial_values

),

final as (

    select
        changes.deal_id,
        'pipedrive' as source,
        changes.field_key,
        changes.new_value as property_value,
        changes.changed_at,
        changes.change_id,
        cast(changes.change_sequence as {{ dbt.type_int() }}) as change_sequence,
        changes.is_initial_value,
        coalesce(deals.is_deleted, false) as is_deal_deleted
    from changes
    left join deals on changes.deal_id = deals.deal_id

)

select * from final
