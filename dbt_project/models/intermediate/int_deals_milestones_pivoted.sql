{#- The canonical open steps and won: a deal reaches step k at its first entry into any stage
    whose step order is >= k, so a skipped step counts as reached then. -#}
-- One row per deal: its funnel milestones (first reach of each step), its current visit (stage,
-- step, since when) and counts over its visits (reopens, regressions, skips), as of `as_of`.
-- A thin as-of model (a table rebuilt every run: one group-by over the stored visits), so a new
-- `as_of_date` rebuilds no deal of the incremental chain (docs/decisions.md, "Incremental by deal").
with

visits as (

    {{ stage_visits_as_of() }}

),

pivoted as (

    select
        deal_id,
        source,
        {% for order, step in funnel_deal_steps() -%}
        min(case when funnel_step_order >= {{ order }} then entered_at end) as first_{{ step }}_at,
        {% endfor -%}
        max(funnel_step_order) as max_funnel_step_order,
        cast(sum(case when is_reopen then 1 else 0 end) as {{ dbt.type_int() }}) as reopen_count,
        cast(sum(case when is_regression then 1 else 0 end) as {{ dbt.type_int() }}) as regression_count,
        cast(sum(case when is_skip then 1 else 0 end) as {{ dbt.type_int() }}) as skip_count,
        cast(count(*) as {{ dbt.type_int() }}) as visit_count
    from visits
    group by deal_id, source

),

current_visits as (

    select
        deal_id,
        pipeline_id as current_pipeline_id,
        stage_id as current_stage_id,
        funnel_step as current_funnel_step,
        funnel_step_order as current_funnel_step_order,
        entered_at as current_entered_at
    from visits
    where is_current

),

final as (

    select
        pivoted.*,
        current_visits.current_pipeline_id,
        current_visits.current_stage_id,
        current_visits.current_funnel_step,
        current_visits.current_funnel_step_order,
        current_visits.current_entered_at,
        case
            when current_visits.current_funnel_step in ('won', 'lost')
                then current_visits.current_funnel_step
            else 'open'
        end as outcome,
        -- when the deal entered its current closed stage; null while open
        case
            when current_visits.current_funnel_step in ('won', 'lost')
                then current_visits.current_entered_at
        end as closed_at
    from pivoted
    left join current_visits on pivoted.deal_id = current_visits.deal_id

)

select * from final
