-- mart_stage_conversion_monthly: advanced never exceeds entered, the rate is their ratio, and
-- each step's entries over all cohorts equal the number of deals (or leads) that reached it.
{{ config(meta={'dagster': {'ref': {'name': 'mart_stage_conversion_monthly'}}}) }}

with

mart as (

    select * from {{ ref('mart_stage_conversion_monthly') }}

),

deals as (

    select * from {{ ref('fct_deals') }}

),

reached as (

    select source, 2 as funnel_step_order, count(*) as deals_reached
    from deals where max_funnel_step_order >= 2 group by source
    union all
    select source, 3, count(*) from deals where max_funnel_step_order >= 3 group by source
    union all
    select source, 4, count(*) from deals where max_funnel_step_order >= 4 group by source

),

entered as (

    select source, funnel_step_order, sum(entered_count) as entered_total
    from mart
    where funnel_step_order >= 2
    group by source, funnel_step_order

)

select cohort_month, source, funnel_step, 'row' as problem
from mart
where advanced_count > entered_count
    or advanced_count < 0
    or abs(conversion_rate - advanced_count * 1.0 / entered_count) > 0.000001
union all
select null, coalesce(entered.source, reached.source), cast(coalesce(entered.funnel_step_order, reached.funnel_step_order) as {{ dbt.type_string() }}), 'totals'
from entered
full outer join reached
    on entered.source = reached.source
    and entered.funnel_step_order = reached.funnel_step_order
where coalesce(entered.entered_total, 0) <> coalesce(reached.deals_reached, 0)
