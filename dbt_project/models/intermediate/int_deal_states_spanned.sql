{{ deal_chain_config() }}
{%- set properties = ['amount', 'currency', 'close_date'] -%}
-- One row per deal × span of days over which its end-of-day state is constant (warehouse
-- docs/metrics.md, "End of day"). The state at the end of day D (`end(D)`, next midnight UTC,
-- exclusive) is: the stage visit with entered_at < end(D) <= exited_at, i.e. the last visit
-- entered on or before D; and for amount, currency and expected close date the newest change
-- dated before end(D) (equal times: the CRM's order), null when the property has history but
-- none before then, the latest loaded value when it has no history at all. A span starts on a
-- day something changed and ends (exclusive) where the next starts; the last has no end. Over
-- the deal's whole history, independent of `as_of` (the end of day D <= `as_of_date` sees only
-- what happened before `as_of`): the snapshot expands the spans to the days up to `as_of_date`.
-- `deal_inputs_hash` fingerprints everything a deal's snapshot rows are made of (its spans,
-- creation time, the rates): the incremental snapshot rebuilds a deal whose hash changed.
with

deals_to_build as (

    -- incremental by deal (macros/incremental_by_deal.sql): the deals whose inputs changed
    {{ deals_to_build() }}

),

deals as (

    select * from {{ ref('int_deals_unioned') }}
    where deal_id in (select deals_to_build.deal_id from deals_to_build)

),

visits as (

    select * from {{ ref('int_deal_stage_visits_collapsed') }}
    where deal_id in (select deals_to_build.deal_id from deals_to_build)

),

pipeline_stages as (

    select source, pipeline_id, stage_id, stage_probability from {{ ref('int_pipeline_stages_unioned') }}

),

changes as (

    select * from {{ ref('int_deal_property_changes_unioned') }}
    where deal_id in (select deals_to_build.deal_id from deals_to_build)

),

rates as (

    select * from {{ ref('int_currency_rates_spined') }}

),

stage_spans as (

    -- the visit that covers the end of each day it was entered on: the last one entered that day
    select
        deal_id,
        span_start_date,
        lead(span_start_date) over (partition by deal_id order by span_start_date) as span_end_date,
        pipeline_id,
        stage_id,
        funnel_step,
        funnel_step_order,
        entered_at
    from (
        select
            visits.*,
            cast(visits.entered_at as date) as span_start_date,
            row_number() over (
                partition by visits.deal_id, cast(visits.entered_at as date) order by visits.visit_number desc
            ) as day_rank
        from visits
    ) as ranked
    where day_rank = 1

),

property_spans as (

    -- per property, the last change of each day holds from that day on
    select
        deal_id,
        property,
        span_start_date,
        lead(span_start_date) over (partition by deal_id, property order by span_start_date) as span_end_date,
        value
    from (
        select
            deal_id,
            property,
            value,
            cast(changed_at as date) as span_start_date,
            row_number() over (
                partition by deal_id, property, cast(changed_at as date)
                order by source_change_sequence desc
            ) as day_rank
        from changes
    ) as ranked
    where day_rank = 1

),

properties_with_history as (

    select
        deal_id,
        {% for p in properties -%}
        max(case when property = '{{ p }}' then 1 else 0 end) as has_{{ p }}_history{% if not loop.last %},{% endif %}
        {% endfor %}
    from changes
    group by deal_id

),

boundaries as (

    select deal_id, span_start_date from stage_spans

    union

    -- a change dated before the deal's creation day holds from the creation day
    select
        property_spans.deal_id,
        case
            when property_spans.span_start_date < cast(deals.created_at as date)
                then cast(deals.created_at as date)
            else property_spans.span_start_date
        end as span_start_date
    from property_spans
    inner join deals on property_spans.deal_id = deals.deal_id

),

segments as (

    select
        deal_id,
        span_start_date,
        lead(span_start_date) over (partition by deal_id order by span_start_date) as span_end_date
    from boundaries

),

states as (

    select
        segments.deal_id,
        deals.source,
        deals.source_deal_id,
        cast(segments.span_start_date as date) as span_start_date,
        cast(segments.span_end_date as date) as span_end_date,
        stage_spans.pipeline_id,
        stage_spans.stage_id,
        stage_spans.funnel_step,
        stage_spans.funnel_step_order,
        stage_spans.entered_at as stage_entered_at,
        pipeline_stages.stage_probability,
        case
            when coalesce(properties_with_history.has_amount_history, 0) = 1
                then cast(amount_spans.value as {{ type_double() }})
            else deals.amount
        end as amount,
        case
            when coalesce(properties_with_history.has_amount_history, 0) = 1 then 'history'
            else 'latest'
        end as amount_basis,
        coalesce(
            case
                when coalesce(properties_with_history.has_currency_history, 0) = 1
                    then currency_spans.value
                else deals.currency_code
            end,
            '{{ var("default_currency", none) or var("reporting_currency") }}'
        ) as currency_code,
        case
            when coalesce(properties_with_history.has_close_date_history, 0) = 1
                then cast(close_date_spans.value as date)
            else cast(deals.close_date_at as date)
        end as expected_close_date,
        deals.created_at
    from segments
    inner join deals on segments.deal_id = deals.deal_id
    inner join stage_spans
        on segments.deal_id = stage_spans.deal_id
        and segments.span_start_date >= stage_spans.span_start_date
        and (stage_spans.span_end_date is null or segments.span_start_date < stage_spans.span_end_date)
    left join pipeline_stages
        on deals.source = pipeline_stages.source
        and stage_spans.pipeline_id = pipeline_stages.pipeline_id
        and stage_spans.stage_id = pipeline_stages.stage_id
    left join properties_with_history on segments.deal_id = properties_with_history.deal_id
    {% for p in properties -%}
    left join property_spans as {{ p }}_spans
        on segments.deal_id = {{ p }}_spans.deal_id
        and {{ p }}_spans.property = '{{ p }}'
        and segments.span_start_date >= {{ p }}_spans.span_start_date
        and ({{ p }}_spans.span_end_date is null or segments.span_start_date < {{ p }}_spans.span_end_date)
    {% endfor %}

),

rates_fingerprint as (

    select
        {{ fingerprint(string_agg_ordered(
            "currency_code || '=' || cast(rate_date as " ~ dbt.type_string() ~ ") || '=' || cast(rate as " ~ dbt.type_string() ~ ")",
            "currency_code, rate_date"
        )) }} as rates_hash
    from (select distinct currency_code, rate_date, rate from rates) as distinct_rates

),

deal_fingerprints as (

    -- xor of one fingerprint per span (each names its start day, so none cancels another)
    select
        states.deal_id,
        bit_xor({{ fingerprint(
            "cast(states.span_start_date as " ~ dbt.type_string() ~ ")"
            ~ " || '/' || coalesce(states.pipeline_id, '') || '/' || coalesce(states.stage_id, '')"
            ~ " || '/' || coalesce(cast(states.funnel_step_order as " ~ dbt.type_string() ~ "), '')"
            ~ " || '/' || coalesce(cast(states.stage_entered_at as " ~ dbt.type_string() ~ "), '')"
            ~ " || '/' || coalesce(cast(states.stage_probability as " ~ dbt.type_string() ~ "), '')"
            ~ " || '/' || coalesce(cast(states.amount as " ~ dbt.type_string() ~ "), '')"
            ~ " || '/' || states.amount_basis || '/' || states.currency_code"
            ~ " || '/' || coalesce(cast(states.expected_close_date as " ~ dbt.type_string() ~ "), '')"
            ~ " || '/' || cast(states.created_at as " ~ dbt.type_string() ~ ")"
            ~ " || '/' || cast(rates_fingerprint.rates_hash as " ~ dbt.type_string() ~ ")"
        ) }}) as deal_inputs_hash
    from states
    cross join rates_fingerprint
    group by states.deal_id

),

final as (

    select
        states.*,
        coalesce(states.funnel_step_order between 2 and 4, false) as is_open,
        deal_fingerprints.deal_inputs_hash
    from states
    inner join deal_fingerprints on states.deal_id = deal_fingerprints.deal_id

)

select
    final.*,
    deals_to_build.deal_build_fingerprint,
    {{ deal_built_at() }} as deal_built_at
from final
inner join deals_to_build on final.deal_id = deals_to_build.deal_id
