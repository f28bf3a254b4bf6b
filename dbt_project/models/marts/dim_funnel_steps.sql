-- The canonical funnel of the warehouse contract (§3): one row per step, plus the `lost` outcome.
with

steps as (

    select 'lead' as funnel_step, 1 as funnel_step_order, false as is_closed,
        'A lead or contact exists; no deal yet' as step_description
    union all
    select 'qualification', 2, false, 'A deal is open and being qualified'
    union all
    select 'presentation', 3, false, 'The offer is presented'
    union all
    select 'negotiation', 4, false, 'Negotiation or contract'
    union all
    select 'won', 5, true, 'Closed won'
    union all
    select 'lost', null, true, 'Closed lost: an outcome, not a step'

),

final as (

    select
        funnel_step,
        cast(funnel_step_order as {{ dbt.type_int() }}) as funnel_step_order,
        is_closed,
        step_description
    from steps

)

select * from final
