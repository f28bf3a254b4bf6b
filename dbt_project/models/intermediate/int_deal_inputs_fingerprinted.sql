{%- set raw_tables = [
    ('hubspot', source('raw_hubspot', 'deals'), 'id'),
    ('hubspot', source('raw_hubspot', 'deal_property_history'), 'deal_id'),
    ('pipedrive', source('raw_pipedrive', 'deals'), 'id'),
    ('pipedrive', source('raw_pipedrive', 'deal_flow'), 'deal_id'),
] -%}
-- One row per deal the marts show: a fingerprint of everything its rows in the per-deal chain
-- are built from (docs/decisions.md, "Incremental by deal"). Per deal: each raw table's row
-- count, newest `_loaded_at` and count of rows flagged deleted (the loader stamps every batch;
-- a full sweep flags deletions). Global, in every deal's fingerprint: the currency vars, the
-- `funnel_stage_mapping` and `currency_rates` seeds, and the stages' owners and probabilities
-- (by content: a sync reloads the pipelines every run). Not `as_of_date`: the chain stores each
-- deal's whole history and the as-of models apply it, so a new `as_of_date` rebuilds no deal. A
-- deal not in `int_deals_unioned` (deleted, archived, excluded, or created after `as_of`) has no
-- row, so the chain drops its rows.
with

deals as (

    select deal_id, source, source_deal_id from {{ ref('int_deals_unioned') }}

),

raw_rows as (

    {% for crm, relation, key in raw_tables -%}
    select
        {{ dbt.concat(["'" ~ crm ~ ":'", "cast(" ~ key ~ " as " ~ dbt.type_string() ~ ")"]) }} as deal_id,
        '{{ loop.index }}' as raw_table,
        count(*) as row_count,
        max(_loaded_at) as last_loaded_at,
        sum(case when _is_deleted then 1 else 0 end) as deleted_count
    from {{ relation }}
    group by {{ key }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

per_deal as (

    select
        deal_id,
        {{ string_agg_ordered(
            "raw_table || ':' || cast(row_count as " ~ dbt.type_string() ~ ") || ':'"
            ~ " || coalesce(cast(last_loaded_at as " ~ dbt.type_string() ~ "), '')"
            ~ " || ':' || cast(deleted_count as " ~ dbt.type_string() ~ ")",
            "raw_table"
        ) }} as raw_summary
    from raw_rows
    group by deal_id

),

global_parts as (

    select
        '{{ "reporting=" ~ var("reporting_currency") ~ ";default=" ~ var("default_currency", none) }}' as part
    union all
    select
        {{ string_agg_ordered(
            "source || '/' || pipeline_id || '/' || stage_id"
            ~ " || '/' || coalesce(cast(stage_probability as " ~ dbt.type_string() ~ "), '')",
            "source, pipeline_id, stage_id"
        ) }} as part
    from {{ ref('int_pipeline_stages_unioned') }}
    union all
    select
        {{ string_agg_ordered(
            "source || '/' || pipeline_id || '/' || stage_id || '/' || coalesce(funnel_step, '')"
            ~ " || '/' || coalesce(cast(funnel_step_order as " ~ dbt.type_string() ~ "), '')",
            "source, pipeline_id, stage_id"
        ) }} as part
    from {{ ref('funnel_stage_mapping') }}
    union all
    select
        {{ string_agg_ordered(
            "cast(rate_date as " ~ dbt.type_string() ~ ") || '/' || currency_code || '/' || reporting_currency"
            ~ " || '/' || cast(rate as " ~ dbt.type_string() ~ ")",
            "rate_date, currency_code, reporting_currency"
        ) }} as part
    from {{ ref('currency_rates') }}

),

global_fingerprint as (

    select {{ fingerprint(string_agg_ordered("coalesce(part, '')", "part")) }} as global_hash
    from global_parts

),

final as (

    select
        deals.deal_id,
        {{ fingerprint(
            "cast(global_fingerprint.global_hash as " ~ dbt.type_string() ~ ") || '|' || deals.source_deal_id"
            ~ " || '|' || coalesce(per_deal.raw_summary, '')"
        ) }} as deal_build_fingerprint
    from deals
    cross join global_fingerprint
    left join per_deal on deals.deal_id = per_deal.deal_id

)

select * from final
