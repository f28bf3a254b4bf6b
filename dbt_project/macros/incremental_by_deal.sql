{#- Incremental by deal (docs/decisions.md, "Incremental by deal"). The per-deal chain
    (stage changes -> visits -> step visits, end-of-day states) keeps one stored row set per deal,
    each deal's whole history (nothing in it depends on `as_of`: the thin as-of models apply it,
    macros/stage_visits_as_of.sql), and rebuilds only the deals whose inputs changed:
    `int_deal_inputs_fingerprinted` gives each deal a fingerprint of its raw rows (count, newest
    `_loaded_at`, deleted flags) and of the global inputs (the mapping and rates seeds, pipeline
    stages); every row of a chain model stores its deal's fingerprint in `deal_build_fingerprint`.

    A chain model:
        {{ config(materialized='incremental', incremental_strategy=deal_incremental_strategy(),
                  unique_key='deal_id', on_schema_change='append_new_columns',
                  pre_hook="{{ delete_rebuilt_deals() }}") }}
        with deals_to_build as ( {{ deals_to_build() }} ), ...   -- filter every input by it
        select final.*, deals_to_build.deal_build_fingerprint from final inner join deals_to_build ...

    The pre-hook deletes the rows of every deal that is gone (deleted, archived, quarantined: no
    longer in the fingerprints) or whose fingerprint changed; `deals_to_build` is then every
    fingerprinted deal without stored rows. A full refresh builds every deal through the same SQL. -#}

{#- The chain's materialization per engine: incremental by deal on DuckDB and PostgreSQL; on
    Spark (parquet tables: no DELETE, and insert_overwrite would replace whole partitions with
    only the rebuilt deals) the chain is rebuilt as plain tables on every run. -#}
{% macro deal_chain_materialization() -%}
    {{ return(adapter.dispatch('deal_chain_materialization')()) }}
{%- endmacro %}

{% macro default__deal_chain_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__deal_chain_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{#- The one place the chain's incremental strategy is chosen (per engine). -#}
{% macro deal_incremental_strategy() -%}
    {{ return(adapter.dispatch('deal_incremental_strategy')()) }}
{%- endmacro %}

{% macro default__deal_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__deal_incremental_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{#- A stable bucket 0..n-1 of a deal id, for engines that overwrite partitions (Spark). -#}
{% macro deal_bucket(deal_id, buckets=64) -%}
    {{ return(adapter.dispatch('deal_bucket')(deal_id, buckets)) }}
{%- endmacro %}

{% macro default__deal_bucket(deal_id, buckets) -%}
    (abs({{ fingerprint(deal_id) }}) % {{ buckets }})
{%- endmacro %}

{#- Deals to (re)build: all on a full build; else the fingerprinted deals with no stored rows
    (after `delete_rebuilt_deals`). Columns: deal_id, deal_build_fingerprint. -#}
{% macro deals_to_build() -%}
    select fingerprints.deal_id, fingerprints.deal_build_fingerprint
    from {{ ref('int_deal_inputs_fingerprinted') }} as fingerprints
    {%- if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as stored where stored.deal_id = fingerprints.deal_id
    )
    {%- endif %}
{%- endmacro %}

{#- Pre-hook: delete the stored rows of deals that are gone or whose fingerprint changed (all
    rows when the table predates the fingerprint column). -#}
{% macro delete_rebuilt_deals() -%}
    {%- if is_incremental() -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- if 'deal_build_fingerprint' in columns -%}
            delete from {{ this }}
            where not exists (
                select 1
                from {{ ref('int_deal_inputs_fingerprinted') }} as fingerprints
                where fingerprints.deal_id = {{ this }}.deal_id
                    and fingerprints.deal_build_fingerprint = {{ this }}.deal_build_fingerprint
            )
        {%- else -%}
            delete from {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
