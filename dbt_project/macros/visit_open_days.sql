{#- The snapshot's definition recomputed from the stage visits (docs/metrics.md
    `marts.fct_pipeline_snapshot_daily`): one row `deal_id, snapshot_date, stage_id` per visit of
    `visits` and day D of `days` whose end (next midnight UTC) falls in the visit, i.e. D from the
    visit's entry day to the day before its exit day (every later day of `days` while the visit is
    current). `visits`: a relation or CTE with `deal_id`, `stage_id`, `entered_at`, `exited_at`;
    `days`: one with a `day` column, or a parenthesized select of one; `where`: a predicate on
    `visits` (the deals a test checks). The snapshot's tests expand the visits with this; the model
    expands its own spans (`int_deal_states_spanned`), so that the tests stay independent of it.
    The same SQL on every engine. -#}
{% macro visit_open_days(visits, days, where=none) -%}
    select visits.deal_id, open_days.day as snapshot_date, visits.stage_id
    from {{ visits }} as visits
    inner join {{ days }} as open_days
        on open_days.day >= cast(visits.entered_at as date)
        and (visits.exited_at is null or open_days.day < cast(visits.exited_at as date))
    {%- if where %}
    where {{ where }}
    {%- endif %}
{%- endmacro %}
