{#- The config of every model of the per-deal chain (macros/incremental_by_deal.sql): incremental
    by deal where the engine allows (a table on Spark), the rebuilt deals' rows deleted first;
    `overrides`: any config a model sets otherwise. One line in the model: `{{ deal_chain_config() }}`. -#}
{% macro deal_chain_config() -%}
    {%- set settings = {
        'materialized': deal_chain_materialization(),
        'incremental_strategy': deal_incremental_strategy(),
        'unique_key': 'deal_id',
        'on_schema_change': 'append_new_columns',
        'pre_hook': "{{ delete_rebuilt_deals() }}",
    } -%}
    {%- do settings.update(kwargs) -%}
    {{ config(**settings) }}
{%- endmacro %}
