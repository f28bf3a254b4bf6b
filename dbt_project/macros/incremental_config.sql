{#- The engine's incremental strategy for a model keyed by `unique_key` (docs/decisions.md
    "One set of models on every engine"). DuckDB and PostgreSQL: `delete+insert` on the key.
    Spark (plain Parquet tables, no MERGE without Delta or Iceberg): `insert_overwrite` of the
    partitions `partition_by`; the model must then select every row of each partition it
    writes (`incremental_overwrites_partitions()` tells it to). Use as
    {{ config(materialized='incremental', **incremental_config([...], [...])) }}. -#}
{% macro incremental_config(unique_key, partition_by) -%}
    {{ return(adapter.dispatch('incremental_config')(unique_key, partition_by)) }}
{%- endmacro %}

{% macro default__incremental_config(unique_key, partition_by) -%}
    {{ return({'incremental_strategy': 'delete+insert', 'unique_key': unique_key}) }}
{%- endmacro %}

{% macro spark__incremental_config(unique_key, partition_by) -%}
    {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': partition_by, 'file_format': 'parquet'}) }}
{%- endmacro %}

{#- True where an incremental run replaces whole partitions (Spark): the model selects all rows
    of the partitions it touches, and row-level deletes (pre-hooks) are not available. -#}
{% macro incremental_overwrites_partitions() -%}
    {{ return(adapter.dispatch('incremental_overwrites_partitions')()) }}
{%- endmacro %}

{% macro default__incremental_overwrites_partitions() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro spark__incremental_overwrites_partitions() -%}
    {{ return(true) }}
{%- endmacro %}
