{%- set all_deal_steps = funnel_deal_steps() -%}
{#- (order, step, next step) of the open deal steps: won has no next step -#}
{%- set deal_steps = [] -%}
{%- for i in range(all_deal_steps | length - 1) -%}
{%- do deal_steps.append((all_deal_steps[i][0], all_deal_steps[i][1], all_deal_steps[i + 1][1])) -%}
{%- endfor -%}
-- One row per cohort month x source x funnel step 1-4 with entries
-- (docs/metrics.md).
-- Step 1 (lead): leads created in the month; advanced = associated (now) with at least one live
-- deal created before `as_of`. Steps 2-4: a deal enters step k at its first entry into any
-- stage of order >= k (skips count as reached); advanced = it reached an order above k by
-- `as_of` (won is order 5).
-- Maturity (an addition beyond the contract, defined in the YAML): a cohort is mature once the time
-- from the end of its month to `as_of` is at least the step's usual time to advance, the 90th
-- percentile of entry -> advance over every advanced entry of that source and step.
with

leads as (

    select * from {{ ref('int_leads_unioned') }}

),

deals as (

    select * from {{ ref('int_deals_unioned') }}

),

deal_contacts as (

    select * from {{ ref('int_deal_leads_unioned') }}

),

milestones as (

    select * from {{ ref('int_deals_milestones_pivoted') }}

),

leads_first_deal as (

    -- a lead advances when the first live deal it is associated with is created
    select deal_contacts.lead_id, min(deals.created_at) as first_deal_created_at
    from deal_contacts
    inner join deals on deal_contacts.deal_id = deals.deal_id
    group by deal_contacts.lead_id

),

lead_entries as (

    select
        {{ month_start('leads.created_at') }} as cohort_month,
        leads.source,
        'lead' as funnel_step,
        1 as funnel_step_order,
        case when leads_first_deal.lead_id is not null then 1 else 0 end as is_advanced,
        leads.created_at as entered_at,
        leads_first_deal.first_deal_created_at as advanced_at
    from leads
    left join leads_first_deal on leads.lead_id = leads_first_deal.lead_id

),

deal_entries as (

    {% for order, step, next_step in deal_steps -%}
    select
        {{ month_start('first_' ~ step ~ '_at') }} as cohort_month,
        source,
        '{{ step }}' as funnel_step,
        {{ order }} as funnel_step_order,
        case when max_funnel_step_order > {{ order }} then 1 else 0 end as is_advanced,
        first_{{ step }}_at as entered_at,
        case when max_funnel_step_order > {{ order }} then first_{{ next_step }}_at end as advanced_at
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

advance_times as (

    -- the step's usual time to advance: p90 of entry -> advance, in days, per source and step
    select
        source,
        funnel_step_order,
        {{ continuous_quantile(days_between('entered_at', 'advanced_at'), 0.9) }} as maturity_days
    from entries
    where advanced_at is not null
    group by source, funnel_step_order

),

cohorts as (

    select
        cohort_month,
        source,
        funnel_step,
        funnel_step_order,
        count(*) as entered_count,
        sum(is_advanced) as advanced_count
    from entries
    group by cohort_month, source, funnel_step, funnel_step_order

),

aged as (

    select
        cohorts.*,
        advance_times.maturity_days,
        {{ days_between(
            'cast(' ~ dbt.dateadd('month', 1, 'cast(cohorts.cohort_month as timestamp)') ~ ' as timestamp)',
            as_of()
        ) }} as cohort_age_days
    from cohorts
    left join advance_times
        on cohorts.source = advance_times.source
        and cohorts.funnel_step_order = advance_times.funnel_step_order

),

final as (

    select
        cohort_month,
        source,
        funnel_step,
        cast(funnel_step_order as {{ dbt.type_int() }}) as funnel_step_order,
        cast(entered_count as {{ dbt.type_int() }}) as entered_count,
        cast(advanced_count as {{ dbt.type_int() }}) as advanced_count,
        case
            when entered_count > 0 then cast(advanced_count * 1.0 / entered_count as {{ type_double() }})
        end as conversion_rate,
        cast(maturity_days as {{ type_double() }}) as maturity_days,
        cast(cohort_age_days as {{ type_double() }}) as cohort_age_days,
        (cohort_age_days >= 0 and cohort_age_days >= coalesce(maturity_days, 0)) as is_mature
    from aged

)

select * from final
