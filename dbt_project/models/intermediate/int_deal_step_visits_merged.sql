{{ deal_chain_config() }}
-- One row per deal × step visit (docs/metrics.md, `mart_funnel_bottlenecks_monthly`): a
-- deal's consecutive stage visits with the same `funnel_step` merge into one step visit (a move
-- between two stages of one step is not an exit). It starts with the first of them and exits
-- when the deal's next visit with another step starts; the exit is `advanced` when that step's
-- order is higher (won is 5), `lost` when it is a lost visit, `regressed` when it is lower.
-- The deal's whole history, independent of `as_of` (the mart reading this applies it).
with

deals_to_build as (

    -- incremental by deal (macros/incremental_by_deal.sql): the deals whose inputs changed
    {{ deals_to_build() }}

),

visits as (

    select * from {{ ref('int_deal_stage_visits_collapsed') }}
    where deal_id in (select deals_to_build.deal_id from deals_to_build)

),

flagged as (

    select
        visits.*,
        case
            when
                lag(visits.funnel_step) over (partition by visits.deal_id order by visits.visit_number)
                = visits.funnel_step
                then 0
            else 1
        end as is_step_visit_start
    from visits

),

numbered as (

    select
        flagged.*,
        sum(flagged.is_step_visit_start) over (
            partition by flagged.deal_id order by flagged.visit_number rows between unbounded preceding and current row
        ) as step_visit_number
    from flagged

),

merged as (

    select
        deal_id,
        source,
        step_visit_number,
        min(funnel_step) as funnel_step,
        min(funnel_step_order) as funnel_step_order,
        min(entered_at) as started_at
    from numbered
    group by deal_id, source, step_visit_number

),

with_next as (

    select
        merged.*,
        lead(merged.started_at) over (partition by merged.deal_id order by merged.step_visit_number) as exited_at,
        lead(merged.funnel_step)
            over (partition by merged.deal_id order by merged.step_visit_number)
            as next_funnel_step,
        lead(merged.funnel_step_order)
            over (partition by merged.deal_id order by merged.step_visit_number)
            as next_funnel_step_order
    from merged

),

final as (

    select
        deal_id,
        source,
        cast(step_visit_number as {{ dbt.type_int() }}) as step_visit_number,
        funnel_step,
        funnel_step_order,
        started_at,
        exited_at,
        next_funnel_step,
        case
            when exited_at is null then null
            when next_funnel_step = 'lost' then 'lost'
            when next_funnel_step_order > funnel_step_order then 'advanced'
            else 'regressed'
        end as exit_type,
        case when exited_at is not null then {{ days_between('started_at', 'exited_at') }} end as dwell_days
    from with_next

)

select
    final.*,
    deals_to_build.deal_build_fingerprint,
    {{ deal_built_at() }} as deal_built_at
from final
inner join deals_to_build on final.deal_id = deals_to_build.deal_id
