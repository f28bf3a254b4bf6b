{%- set deal_steps = [(2, 'qualification'), (3, 'presentation'), (4, 'negotiation')] -%}
-- One row per cohort month x source x funnel step 1-4 with entries (contract §4
-- `marts.mart_stage_conversion_monthly`).
-- Step 1 (lead): leads created in the month; advanced = associated (now) with at least one live
-- deal created before `as_of`. Steps 2-4: a deal enters step k at its first entry into any
-- stage of order >= k (skips count as reached); advanced = it reached an order above k by
-- `as_of` (won is order 5).
with

leads as (

    select * from {{ ref('int_leads_unioned') }}

),

deal_contacts as (

    select * from {{ ref('int_deal_leads_unioned') }}

),

milestones as (

    select * from {{ ref('int_deals_milestones_pivoted') }}

),

leads_with_deals as (

    select distinct lead_id from deal_contacts

),

lead_entries as (

    select
        {{ month_start('leads.created_at') }} as cohort_month,
        leads.source,
        'lead' as funnel_step,
        1 as funnel_step_order,
        case when leads_with_deals.lead_id is not null then 1 else 0 end as is_advanced
    from leads
    left join leads_with_deals on leads.lead_id = leads_with_deals.lead_id

),

deal_entries as (

    {% for order, step in deal_steps -%}
    select
        {{ month_start('first_' ~ step ~ '_at') }} as cohort_month,
        source,
        '{{ step }}' as funnel_step,
        {{ order }} as funnel_step_order,
        case when max_funnel_step_order > {{ order }} then 1 else 0 end as is_advanced
    from milestones
    where first_{{ step }}_at is not null
    {% if not loop.last %}
    union all

    {% endif -%}
    {%- endfor %}

),

entries as (

    select * from lead_entries
    union all
    select * from deal_entries

),

final as (

    select
        cohort_month,
        source,
        funnel_step,
        cast(funnel_step_order as {{ dbt.type_int() }}) as funnel_step_order,
        cast(count(*) as {{ dbt.type_int() }}) as entered_count,
        cast(sum(is_advanced) as {{ dbt.type_int() }}) as advanced_count,
        case
            when count(*) > 0 then cast(sum(is_advanced) * 1.0 / count(*) as {{ type_double() }})
        end as conversion_rate
    from entries
    group by cohort_month, source, funnel_step, funnel_step_order

)

select * from final
