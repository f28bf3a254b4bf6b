{#- The stage visits as of `as_of` (docs/decisions.md, "Incremental by deal"): the one stored copy
    of the visits (`int_deal_stage_visits_collapsed`, each deal's whole history, independent of
    `as_of`) without the visits entered at or after `as_of`; the visit in force at `as_of` has no
    exit and is current; dwell runs to the exit, or to `as_of` for the current visit. Visit 1
    starts at the deal's creation, before `as_of` for every deal of `int_deals_unioned`, so every
    deal keeps at least one visit. The as-of models (`fct_deal_stage_history`,
    `int_deals_milestones_pivoted`) select from this. -#}
{% macro stage_visits_as_of() -%}
    select
        {{- stage_visit_columns('visits') }}
        case when visits.exited_at < {{ as_of() }} then visits.exited_at end as exited_at,
        coalesce(visits.exited_at >= {{ as_of() }}, true) as is_current,
        {{ days_between(
            'visits.entered_at',
            'case when visits.exited_at < ' ~ as_of() ~ ' then visits.exited_at else ' ~ as_of() ~ ' end'
        ) }} as dwell_days,
        visits.is_regression,
        visits.is_skip,
        visits.is_reopen,
        visits.previous_funnel_step,
        visits.previous_step_order,
        visits.highest_previous_step_order
    from {{ ref('int_deal_stage_visits_collapsed') }} as visits
    where visits.entered_at < {{ as_of() }}
{%- endmacro %}

{#- The columns that say which visit a row is, as the stored visits have them, in the order of
    `fct_deal_stage_history`'s contract (its first nine), each `<relation>.<column>,` on a line of
    its own: the as-of visits above and that mart select them through this. -#}
{% macro stage_visit_columns(relation) -%}
    {%- for column in [
        'deal_id', 'source', 'source_deal_id', 'pipeline_id', 'stage_id', 'funnel_step', 'funnel_step_order',
        'visit_number', 'entered_at'
    ] %}
        {{ relation }}.{{ column }},
    {%- endfor %}
{%- endmacro %}

{#- What a chain model stores is independent of `as_of`; the as-of models read it through
    `stage_visits_as_of()`. `fct_deal_stage_history` is a view over it on DuckDB and PostgreSQL
    (one stored copy of the visits); on Spark, whose checks and publishing read the tables' Parquet
    files, a table. -#}
{% macro as_of_view_materialization() -%}
    {{ return(adapter.dispatch('as_of_view_materialization')()) }}
{%- endmacro %}

{% macro default__as_of_view_materialization() -%}
    {{ return('view') }}
{%- endmacro %}

{% macro spark__as_of_view_materialization() -%}
    {{ return('table') }}
{%- endmacro %}
