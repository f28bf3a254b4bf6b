-- The funnel's metric history as one long table: period x metric x segment x value, as of
-- `as_of_date` (the only clock). Each metric family is its own model (metric_*.sql beside this
-- one); this table unions them so the checks that read it (skip_rate_jump, regression_rate_jump,
-- won_amount_sanity in warehouse/anomaly/checks/) read one small table instead of scanning the
-- marts; the other funnel checks read the marts. Metrics and buckets: docs/metrics.md#metric-history.
with

{% set families = [
    'metric_stage_transitions',
    'metric_won_amounts',
] -%}

{% for family in families -%}
{{ family }} as (

    select * from {{ ref(family) }}

),

{% endfor -%}

unioned as (

    {% for family in families -%}
    select * from {{ family }}
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}

),

final as (

    select
        metric,
        segment,
        grain,
        bucket_index,
        period_start,
        period_end,
        value,
        numerator,
        denominator,
        n,
        mad,
        p90,
        is_complete,
        {{ as_of_date() }} as as_of_date
    from unioned

)

select * from final
